package io.msm.spring.boot;

import java.util.Locale;

/** Which property keys hold msm's secrets, in the forms the actuator shows them. */
final class MsmSecrets {
    private MsmSecrets() {
    }

    /**
     * {@code msm.session-keys}, {@code msm.password}, {@code msm.tls-trust-store-password},
     * {@code msm.tls-key-store-password} and their other spellings ({@code MSM_SESSIONKEYS}, and the
     * {@code sessionKeys}, {@code password}, ... of msm's properties in the configprops endpoint).
     */
    static boolean isSecret(String key) {
        if (key == null) {
            return false;
        }
        String k = key.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
        return k.endsWith("sessionkeys") || k.equals("password") || k.equals("msmpassword")
                || k.endsWith("tlstruststorepassword") || k.endsWith("tlskeystorepassword");
    }
}
