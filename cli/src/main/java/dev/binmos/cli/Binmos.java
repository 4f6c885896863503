package dev.binmos.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code binmos} command. */
@Command(name = "binmos", mixinStandardHelpOptions = true, versionProvider = Binmos.Version.class,
        description = "Runs Llama-family models with 1-bit BinaryMoS weights and PoD attention.",
        subcommands = {GenerateCommand.class, PerplexityCommand.class, InspectCommand.class, SynthCommand.class, BinarizeCommand.class,
                TrainCommand.class, PodCalibrateCommand.class, TeacherTextCommand.class, BenchCommand.class})
public final class Binmos {

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with Binmos's error handling: bad input prints one clear line, not a stack trace. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Binmos());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("binmos " + cmd.getCommandName() + ": " + describe(e));
            if (Boolean.getBoolean("binmos.debug")) {
                e.printStackTrace(cmd.getErr());
            }
            return 1;
        });
        return cl;
    }

    private static String describe(Throwable e) {
        if (e instanceof java.io.UncheckedIOException u && u.getCause() != null) {
            e = u.getCause();
        }
        if (e instanceof java.nio.file.NoSuchFileException n) {
            return "file not found: " + n.getFile();
        }
        String message = e.getMessage();
        return message == null ? e.toString() : message;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Binmos.class.getPackage().getImplementationVersion();
            return new String[] {"binmos " + (v == null ? "dev" : v)};
        }
    }
}
