package io.msm.spring.boot;

import java.util.List;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * Matches when {@code msm.memcached-nodes} names at least one node, as one value or as a list: a blank value (an
 * unset {@code ${MEMCACHED_NODES:}}, an empty environment variable) leaves msm off, as if it were not set.
 */
public class MemcachedNodesCondition extends SpringBootCondition {
    @Override
    public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
        List<String> nodes = Binder.get(context.getEnvironment())
                .bind("msm.memcached-nodes", Bindable.listOf(String.class)).orElse(List.of());
        boolean named = nodes.stream().anyMatch(n -> n != null && !n.isBlank());
        return named ? ConditionOutcome.match("msm.memcached-nodes is set")
                : ConditionOutcome.noMatch("msm.memcached-nodes is not set or blank");
    }
}
