package io.msm.it;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/** Collects what java.util.logging (Tomcat's and msm's logging in tests) records under a logger name. */
final class LogCapture extends Handler implements AutoCloseable {
    private final Logger logger;
    final List<LogRecord> records = new CopyOnWriteArrayList<>();

    private LogCapture(String name) {
        this.logger = Logger.getLogger(name);
        setLevel(Level.ALL);
        logger.addHandler(this);
    }

    static LogCapture of(String loggerName) {
        return new LogCapture(loggerName);
    }

    @Override
    public void publish(LogRecord record) {
        records.add(record);
    }

    /** Messages (and the messages of their exceptions) containing {@code text}. */
    List<String> containing(String text) {
        return records.stream().map(LogCapture::fullText).filter(m -> m.contains(text)).collect(Collectors.toList());
    }

    static String fullText(LogRecord r) {
        StringBuilder sb = new StringBuilder(String.valueOf(r.getMessage()));
        for (Throwable t = r.getThrown(); t != null; t = t.getCause()) {
            sb.append(" | ").append(t.getMessage());
        }
        return sb.toString();
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        logger.removeHandler(this);
    }
}
