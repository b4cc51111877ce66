package io.msm.engine;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ImmutableValuesTest {
    /** A subclass of an immutable-looking JDK class can carry mutable state. */
    static final class MutableDecimal extends BigDecimal {
        private static final long serialVersionUID = 1L;
        int changes;

        MutableDecimal() {
            super(1);
        }
    }

    /** A constant with a body of its own is an instance of a subclass of its enum. */
    enum Shape {
        ROUND,
        SQUARE {
            @Override
            public String toString() {
                return "square";
            }
        }
    }

    @Test
    void enumConstantsCannotChangeWithOrWithoutABodyAskedAnyNumberOfTimes() {
        for (int i = 0; i < 3; i++) { // the answer is kept per class: the second one comes from there
            assertTrue(ImmutableValues.cannotChange(Shape.ROUND));
            assertTrue(ImmutableValues.cannotChange(Shape.SQUARE), Shape.SQUARE.getClass().getName());
            assertFalse(ImmutableValues.cannotChange(new MutableDecimal()));
        }
    }

    @Test
    void valuesThatCannotChangeInPlace() {
        for (Object v : new Object[] {null, "s", 1, 1L, (short) 1, (byte) 1, 'c', true, 1.0, 1.0f, BigInteger.ONE,
            BigDecimal.ONE, UUID.randomUUID(), Instant.now(), LocalDate.now(), TimeUnit.SECONDS}) {
            assertTrue(ImmutableValues.cannotChange(v), String.valueOf(v));
        }
    }

    @Test
    void valuesThatCanChangeInPlace() {
        List<Object> list = new ArrayList<>();
        for (Object v : new Object[] {list, new Date(), new AtomicInteger(), new StringBuilder(), new int[1],
            new MutableDecimal(), new Object()}) {
            assertFalse(ImmutableValues.cannotChange(v), v.getClass().getName());
        }
    }
}
