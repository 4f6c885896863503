package dev.binmos.tests;

import java.util.ArrayList;
import java.util.List;

/** A scrape of a service's Prometheus text (/q/metrics). */
public record Metrics(List<String> lines) {

    public static Metrics scrape(ServiceProcess process) {
        return new Metrics(process.get("/q/metrics").lines().filter(line -> !line.startsWith("#")).toList());
    }

    /** The value of a series without labels. */
    public double value(String name) {
        return find(name, null, null);
    }

    /** The value of the series of {@code name} with label key="value" (e.g. a histogram bucket le="1.0"). */
    public double value(String name, String key, String value) {
        return find(name, key, value);
    }

    private double find(String name, String key, String labelValue) {
        List<String> seen = new ArrayList<>();
        for (String line : lines) {
            int brace = line.indexOf('{');
            int space = line.indexOf(' ');
            String series = line.substring(0, brace >= 0 && brace < space ? brace : space);
            if (!series.equals(name)) {
                continue;
            }
            seen.add(line);
            String labels = brace >= 0 && brace < space ? line.substring(brace, line.indexOf('}') + 1) : "";
            if (key == null || labels.contains(key + "=\"" + labelValue + "\"")) {
                String rest = line.substring(labels.isEmpty() ? space + 1 : line.indexOf('}') + 2);
                return Double.parseDouble(rest.split(" ")[0]);
            }
        }
        throw new AssertionError("no series " + name + (key == null ? "" : "{" + key + "=\"" + labelValue + "\"}") + " among " + seen);
    }
}
