package dev.binmos.engine.model;

import dev.binmos.engine.tensor.GgmlType;

/** A tensor as stored in a model file: for {@code binmos inspect}. Shape is listed outermost first. */
public record TensorEntry(String name, GgmlType type, long[] shape, long bytes) {
}
