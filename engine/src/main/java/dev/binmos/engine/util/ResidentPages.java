package dev.binmos.engine.util;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Gives back the pages of a read-only file mapping that the process has read but will not read again
 * soon (weights copied into another layout): {@code madvise(MADV_DONTNEED)} drops them from the resident
 * set, and a later read faults them in again from the page cache, unchanged. Where the call is not
 * available (not Linux, or native access denied) it does nothing: the pages then simply stay resident.
 */
public final class ResidentPages {
    private static final int MADV_DONTNEED = 4;
    private static final long PAGE = 4096;
    private static final MethodHandle MADVISE = lookup();

    private ResidentPages() {
    }

    private static MethodHandle lookup() {
        if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
            return null;
        }
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("madvise").map(symbol -> linker.downcallHandle(symbol,
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT)))
                    .orElse(null);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * Releases the whole pages inside segment, if it is a native (mapped) segment. Only for memory that is
     * a read-only view of a file: anonymous memory would read back as zeros.
     */
    public static void release(MemorySegment segment) {
        if (MADVISE == null || !segment.isNative() || !segment.isMapped()) {
            return;
        }
        long start = (segment.address() + PAGE - 1) / PAGE * PAGE;
        long end = (segment.address() + segment.byteSize()) / PAGE * PAGE;
        if (end <= start) {
            return;
        }
        try {
            int ignored = (int) MADVISE.invokeExact(MemorySegment.ofAddress(start), end - start, MADV_DONTNEED);
        } catch (Throwable e) {
            // an optimisation only: the pages stay resident
        }
    }
}
