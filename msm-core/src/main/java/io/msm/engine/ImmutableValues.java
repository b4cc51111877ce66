package io.msm.engine;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.MonthDay;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.Period;
import java.time.Year;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Set;
import java.util.UUID;

/**
 * Attribute values whose stored form no request can change: reading one cannot make the session need a backup, so
 * a request that only reads such values costs no serialization. Exact classes only (a subclass of
 * {@code BigDecimal} may be mutable); enum constants count, since only their name is stored.
 */
public final class ImmutableValues {
    private static final Set<Class<?>> CLASSES = Set.of(String.class, Integer.class, Long.class, Short.class,
            Byte.class, Character.class, Boolean.class, Double.class, Float.class, BigInteger.class, BigDecimal.class,
            UUID.class, Instant.class, LocalDate.class, LocalTime.class, LocalDateTime.class, ZonedDateTime.class,
            OffsetDateTime.class, OffsetTime.class, Duration.class, Period.class, Year.class, YearMonth.class,
            MonthDay.class, ZoneOffset.class);

    /**
     * Per class, whether its instances cannot change: computed once per class (the set's probe for a class not in it,
     * a cart or a user object, cost more than the rest of a split write's sorting). Held by each class itself, so a
     * webapp's classes keep no reference to msm's and msm none to theirs.
     */
    private static final ClassValue<Boolean> IMMUTABLE = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> c) {
            return CLASSES.contains(c) || Enum.class.isAssignableFrom(c);
        }
    };

    private ImmutableValues() {
    }

    /** Whether reading {@code value} out of a session can never change what the session stores. */
    public static boolean cannotChange(Object value) {
        if (value == null) {
            return true;
        }
        Class<?> c = value.getClass();
        // the usual ones first, compared by identity
        return c == String.class || c == Integer.class || c == Long.class || c == Boolean.class || IMMUTABLE.get(c);
    }
}
