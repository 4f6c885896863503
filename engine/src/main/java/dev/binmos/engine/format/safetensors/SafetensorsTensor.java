package dev.binmos.engine.format.safetensors;

/**
 * A tensor as a safetensors header describes it.
 *
 * @param shape outermost first (row-major)
 * @param begin byte offset of the data from the end of the header
 * @param end   exclusive end offset
 */
public record SafetensorsTensor(String name, SafetensorsDtype dtype, long[] shape, long begin, long end) {

    public long elements() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }
}
