package io.msm.config;

import io.msm.codec.BlobSealer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The value of {@code sessionKeys}: the keys of {@code sessionKeys} (inline) or {@code sessionKeyFile}, checked
 * against {@code sessionProtection}. Problems name a key by its position, never by its value.
 */
final class SessionKeys {

    private SessionKeys() {
    }

    /** Reads the keys; {@code inline} is {@code sessionKeys} as written ({@code null} if not set). */
    static List<byte[]> read(String inline, Reading r) {
        SessionProtection protection = r.value(Attributes.SESSION_PROTECTION);
        String keys = inline == null || inline.isBlank() ? null : inline;
        String file = r.text(MsmConfig.SESSION_KEY_FILE);
        if (keys != null && file != null) {
            r.problems.add(MsmConfig.SESSION_KEYS + " and " + MsmConfig.SESSION_KEY_FILE
                    + " are both set: use one of them");
            return null;
        }
        List<byte[]> read = new ArrayList<>();
        if (keys != null) {
            decode(MsmConfig.SESSION_KEYS + " (value not shown)", List.of(NodeList.LIST_SEPARATOR.split(keys.trim())),
                    read, r);
        } else if (file != null) {
            readFile(file, read, r);
        }
        if (protection == SessionProtection.NONE) {
            if (keys != null || file != null) {
                String v = r.text(MsmConfig.SESSION_PROTECTION);
                r.problems.add((v == null ? MsmConfig.SESSION_PROTECTION + " (not set, none)"
                        : MsmConfig.SESSION_PROTECTION + "=\"" + v + "\"") + ": keys are configured ("
                        + (keys != null ? MsmConfig.SESSION_KEYS : MsmConfig.SESSION_KEY_FILE)
                        + "), so set sessionProtection=\"sign\" or \"encrypt\" (or remove the keys)");
            }
            return null;
        }
        if (keys == null && file == null) {
            r.problem(MsmConfig.SESSION_PROTECTION, "needs keys: set " + MsmConfig.SESSION_KEYS + " (base64, e.g. from "
                    + "`openssl rand -base64 32`) or " + MsmConfig.SESSION_KEY_FILE);
            return null;
        }
        return List.copyOf(read);
    }

    private static void readFile(String name, List<byte[]> keys, Reading r) {
        Path file = Path.of(name);
        String base = System.getProperty("catalina.base");
        if (!file.isAbsolute() && base != null) {
            file = Path.of(base).resolve(file);
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.US_ASCII);
        } catch (IOException | RuntimeException e) {
            r.problem(MsmConfig.SESSION_KEY_FILE, "cannot read " + file.toAbsolutePath() + " ("
                    + e.getClass().getSimpleName() + ")");
            return;
        }
        List<String> entries = new ArrayList<>();
        for (String line : lines) {
            String t = line.trim();
            if (!t.isEmpty() && !t.startsWith("#")) {
                entries.add(t);
            }
        }
        decode(MsmConfig.SESSION_KEY_FILE + "=\"" + name + "\"", entries, keys, r);
        try {
            if (Files.getPosixFilePermissions(file).contains(PosixFilePermission.OTHERS_READ)) {
                r.warn(MsmConfig.SESSION_KEY_FILE + "=\"" + name + "\" is readable by every user of this machine; "
                        + "chmod o-r it");
            }
        } catch (IOException | UnsupportedOperationException e) {
            // not a POSIX file system: nothing to check
        }
    }

    /** Decodes base64 keys; problems name the key's position, never its value. */
    private static void decode(String what, List<String> entries, List<byte[]> keys, Reading r) {
        if (entries.isEmpty()) {
            r.problems.add(what + ": no key found (one base64 key per entry, at least " + BlobSealer.MIN_KEY_BYTES
                    + " bytes)");
            return;
        }
        List<String> bad = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < entries.size(); i++) {
            String where = "key " + (i + 1) + " of " + entries.size();
            byte[] k;
            try {
                k = Base64.getDecoder().decode(entries.get(i));
            } catch (IllegalArgumentException e) {
                bad.add(where + " is not base64");
                continue;
            }
            if (k.length < BlobSealer.MIN_KEY_BYTES) {
                bad.add(where + " has " + k.length + " bytes, at least " + BlobSealer.MIN_KEY_BYTES
                        + " are needed (e.g. `openssl rand -base64 32`)");
                continue;
            }
            if (!seen.add(entries.get(i))) {
                bad.add(where + " repeats an earlier key");
                continue;
            }
            keys.add(k);
        }
        if (!bad.isEmpty()) {
            r.problems.add(what + ": " + String.join("; ", bad));
        }
    }
}
