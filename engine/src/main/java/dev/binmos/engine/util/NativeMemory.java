package dev.binmos.engine.util;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Native memory, 64-byte aligned, for weights kept in a kernel's own layout and for lookup tables, freed
 * when no longer reachable. It comes from
 * the C allocator rather than {@code Arena.allocate}, whose memory counts against the JVM's direct-memory
 * limit (by default the heap's size): a model's weights must not need a heap as large as themselves.
 * Without native access it falls back to {@code Arena.ofAuto()}.
 */
public final class NativeMemory {
    private static final MethodHandle MALLOC;
    private static final MethodHandle FREE;

    static {
        MethodHandle malloc = null;
        MethodHandle free = null;
        try {
            Linker linker = Linker.nativeLinker();
            malloc = linker.downcallHandle(linker.defaultLookup().findOrThrow("malloc"),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
            free = linker.downcallHandle(linker.defaultLookup().findOrThrow("free"), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
        } catch (RuntimeException e) {
            malloc = null;
        }
        MALLOC = malloc;
        FREE = free;
    }

    private NativeMemory() {
    }

    /** A zeroed segment of {@code bytes} bytes, 64-byte aligned, freed once unreachable. */
    public static MemorySegment allocate(long bytes) {
        if (MALLOC != null) {
            try {
                MemorySegment raw = (MemorySegment) MALLOC.invokeExact(bytes + 63);
                if (raw.address() == 0) {
                    throw new OutOfMemoryError("malloc could not give " + bytes + " bytes of native memory");
                }
                long pad = (64 - raw.address() % 64) % 64;
                MemorySegment block = raw.reinterpret(bytes + 63, Arena.ofAuto(), NativeMemory::free);
                return block.asSlice(pad, bytes).fill((byte) 0);
            } catch (OutOfMemoryError e) {
                throw e;
            } catch (Throwable e) {
                // native access refused: below
            }
        }
        return Arena.ofAuto().allocate(bytes, 64);
    }

    private static void free(MemorySegment segment) {
        try {
            FREE.invokeExact(segment);
        } catch (Throwable e) {
            throw new IllegalStateException("free failed", e);
        }
    }
}
