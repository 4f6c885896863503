package dev.binmos.router.registry;

import java.util.List;
import java.util.stream.Collectors;

/** Workers that together run every layer of a model, in layer order. */
public record Pipeline(List<Worker> stages) {

    public Pipeline {
        stages = List.copyOf(stages);
    }

    /** Identifies the pipeline by its workers' registrations (a re-registered worker makes a new one). */
    public String key() {
        return stages.stream().map(w -> w.id() + "#" + w.registration()).collect(Collectors.joining(","));
    }

    public boolean gone() {
        return stages.stream().anyMatch(Worker::gone);
    }

    public boolean draining() {
        return stages.stream().anyMatch(Worker::draining);
    }

    public boolean contains(Worker worker) {
        return stages.contains(worker);
    }

    @Override
    public String toString() {
        return stages.toString();
    }
}
