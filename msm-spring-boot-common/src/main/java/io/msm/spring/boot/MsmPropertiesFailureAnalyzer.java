package io.msm.spring.boot;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Spring Boot's failure report for invalid {@code msm.*} properties: each property, its value, what was expected. */
public class MsmPropertiesFailureAnalyzer extends AbstractFailureAnalyzer<MsmPropertiesException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, MsmPropertiesException cause) {
        return new FailureAnalysis("msm (memcached session manager) cannot start: " + cause.getMessage(),
                "Correct the msm.* properties listed above (msm's README, section Spring Boot, lists them all), or set"
                        + " msm.enabled=false to run without msm.", cause);
    }
}
