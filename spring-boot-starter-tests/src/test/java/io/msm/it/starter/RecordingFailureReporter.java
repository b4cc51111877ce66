package io.msm.it.starter;

import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalysisReporter;

/**
 * Registered beside Spring Boot's own reporter (this module's META-INF/spring.factories): keeps the last failure
 * analysis Boot made of a failed start, so a test reads what the developer would read under
 * "APPLICATION FAILED TO START".
 */
public class RecordingFailureReporter implements FailureAnalysisReporter {
    static volatile FailureAnalysis last;

    @Override
    public void report(FailureAnalysis analysis) {
        last = analysis;
    }
}
