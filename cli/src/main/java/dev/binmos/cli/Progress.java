package dev.binmos.cli;

import dev.binmos.engine.util.ProgressListener;
import java.io.PrintStream;

/**
 * A one-line progress bar on stderr with rate and ETA. It stays silent for the first second, so quick
 * commands print nothing extra, and redraws at most ten times a second.
 */
final class Progress implements AutoCloseable, ProgressListener {
    private static final long QUIET_NANOS = 1_000_000_000L;
    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintStream out;
    private final String label;
    private final String unit;
    private final long start = System.nanoTime();
    private long lastDraw;
    private boolean drawn;

    Progress(String label, String unit) {
        this.out = System.err;
        this.label = label;
        this.unit = unit;
    }

    @Override
    public void update(long done, long total) {
        update(done, total, "");
    }

    /** As {@link #update(long, long)}, with a short text (e.g. current losses) after the rate. */
    void update(long done, long total, String detail) {
        long now = System.nanoTime();
        if (now - start < QUIET_NANOS || (now - lastDraw < REDRAW_NANOS && done < total)) {
            return;
        }
        lastDraw = now;
        drawn = true;
        double seconds = (now - start) / 1e9;
        double rate = done / seconds;
        double fraction = total > 0 ? Math.min(1.0, (double) done / total) : 0;
        int width = 30;
        int filled = (int) Math.round(fraction * width);
        String eta = rate > 0 && total > done ? formatSeconds((total - done) / rate) : "0s";
        out.printf("\r%s [%s%s] %3d%% %d/%d %s, %.1f %s/s, %sETA %s ", label, "#".repeat(filled), ".".repeat(width - filled),
                (int) (fraction * 100), done, total, unit, rate, unit, detail.isEmpty() ? "" : detail + ", ", eta);
        out.flush();
    }

    private static String formatSeconds(double s) {
        long total = Math.round(s);
        return total >= 3600 ? String.format("%dh%02dm", total / 3600, total / 60 % 60)
                : total >= 60 ? String.format("%dm%02ds", total / 60, total % 60) : total + "s";
    }

    @Override
    public void close() {
        if (drawn) {
            out.println();
        }
    }
}
