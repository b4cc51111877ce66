package io.msm.test.log;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * The lines java.util.logging records under one logger (and its children) from {@link #of} until {@link #close}: the
 * message, then the message of each cause after {@code " | "}. msm's {@code System.Logger} lines reach
 * java.util.logging when no other backend is installed, as in these tests.
 */
public final class LogLines extends Handler implements AutoCloseable {
    private final Logger logger;
    private final Level least;
    private final List<String> lines = new CopyOnWriteArrayList<>();

    private LogLines(String loggerName, Level least) {
        this.logger = Logger.getLogger(loggerName);
        this.least = least;
        setLevel(Level.ALL);
        logger.addHandler(this);
    }

    /** Lines at WARNING and above under {@code loggerName}, from now. */
    public static LogLines warnings(String loggerName) {
        return new LogLines(loggerName, Level.WARNING);
    }

    /** Every line under {@code loggerName} the logger's level lets through, from now. */
    public static LogLines all(String loggerName) {
        return new LogLines(loggerName, Level.ALL);
    }

    /** The lines so far, oldest first (a live view: lines logged later show up in it). */
    public List<String> lines() {
        return lines;
    }

    /** The lines so far that contain {@code text}. */
    public List<String> containing(String text) {
        return lines.stream().filter(l -> l.contains(text)).collect(Collectors.toList());
    }

    @Override
    public void publish(LogRecord r) {
        if (r.getLevel().intValue() < least.intValue()) {
            return;
        }
        StringBuilder line = new StringBuilder(String.valueOf(r.getMessage()));
        for (Throwable t = r.getThrown(); t != null; t = t.getCause()) {
            line.append(" | ").append(t.getMessage());
        }
        lines.add(line.toString());
    }

    @Override
    public void flush() {
    }

    /** Stops recording; the lines stay readable. */
    @Override
    public void close() {
        logger.removeHandler(this);
    }
}
