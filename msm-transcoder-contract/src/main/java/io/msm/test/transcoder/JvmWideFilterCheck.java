package io.msm.test.transcoder;

import io.msm.spi.SessionAttributesTranscoder;
import io.msm.spi.TranscoderException;
import io.msm.spi.TranscoderFactory;
import java.io.ObjectInputFilter;
import java.util.List;
import java.util.Map;
import java.util.function.BinaryOperator;

/**
 * Runs in a JVM of its own that an administrator configured with {@code -Djdk.serialFilter} or
 * {@code -Djdk.serialFilterFactory} (both are JVM-wide and can be set once per JVM): checks that what that
 * administrator refuses ({@code java.lang.IllegalStateException}, which msm itself reads) stays refused when msm's
 * serializer reads a session, that msm's own refusals stay in force on top, and that what both allow still reads.
 * Exits 0 and prints {@link #PASSED} when all holds.
 *
 * <p>Arguments: the {@link TranscoderFactory} class, then {@code java} if that serializer reads the Java layout (so a
 * gadget can be planted for it here).
 */
public final class JvmWideFilterCheck {
    public static final String PASSED = "JVM-wide filter applied on top of msm's";

    private JvmWideFilterCheck() {
    }

    /** A JVM-wide filter factory (Java 17+) that merges a rejection of IllegalStateException into every filter. */
    public static final class RejectIllegalState implements BinaryOperator<ObjectInputFilter> {
        private static final ObjectInputFilter ADMIN = ObjectInputFilter.rejectFilter(
                IllegalStateException.class::equals, ObjectInputFilter.Status.UNDECIDED);

        @Override
        public ObjectInputFilter apply(ObjectInputFilter current, ObjectInputFilter next) {
            return next == null ? ADMIN : ObjectInputFilter.merge(ADMIN, next);
        }
    }

    public static void main(String[] args) throws Exception {
        TranscoderFactory factory = (TranscoderFactory) Class.forName(args[0]).getConstructor().newInstance();
        SessionAttributesTranscoder t = factory.createTranscoder(TranscoderContract.context(
                JvmWideFilterCheck.class.getClassLoader(), false, List.of(), "/jvm-wide"));

        byte[] refusedByAdmin = t.serialize(Map.of("error", new IllegalStateException("refused by the admin")));
        try {
            Object read = t.deserialize(refusedByAdmin).get("error");
            fail("an IllegalStateException, which the JVM-wide filter rejects, was read: " + read);
        } catch (TranscoderException expected) {
            System.out.println("refused as the JVM-wide filter says: " + expected.getMessage());
        }

        if (args.length > 1 && args[1].equals("java")) {
            // the JVM-wide filter allows javax.management.**: msm's own refusal of a gadget in it stays in force
            byte[] gadget = JavaStreams.sessionLayout(Map.of("g",
                    new javax.management.BadAttributeValueExpException("x")));
            try {
                t.deserialize(gadget);
                fail("a BadAttributeValueExpException was read because the JVM-wide filter allows it");
            } catch (TranscoderException expected) {
                System.out.println("msm still refuses: " + expected.getMessage());
            }
        }

        Map<String, Object> plain = Map.of("n", 1, "s", "text", "list", List.of("a", "b"));
        if (!plain.equals(t.deserialize(t.serialize(plain)))) {
            fail("a session both filters allow did not read back equal");
        }
        System.out.println(PASSED);
    }

    private static void fail(String why) {
        System.out.println("FAILED: " + why);
        System.exit(1);
    }
}
