package dev.binmos.engine.tensor;

import dev.binmos.engine.util.ResidentPages;
import java.lang.foreign.MemorySegment;

/** Values of one storage type in a (usually memory-mapped) little-endian segment. */
public abstract class MappedTensor extends FloatTensor {
    protected final MemorySegment segment;
    private final long size;
    private final GgmlType type;

    protected MappedTensor(GgmlType type, MemorySegment segment, long size) {
        long needed = type.byteSize(size);
        if (segment.byteSize() < needed) {
            throw new IllegalArgumentException("segment of " + segment.byteSize() + " bytes holds fewer than " + size + " " + type + " values (" + needed + " bytes)");
        }
        this.type = type;
        this.segment = segment;
        this.size = size;
    }

    @Override
    public final long size() {
        return size;
    }

    @Override
    public final GgmlType type() {
        return type;
    }

    @Override
    public void releasePages() {
        ResidentPages.release(segment);
    }
}
