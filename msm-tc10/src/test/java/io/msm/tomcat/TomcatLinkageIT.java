package io.msm.tomcat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * msm-tc10 is compiled against Tomcat 9 and migrated, never compiled against 10.1 or 11: a Tomcat method or field it
 * uses that a newer line removed or changed would only show as a NoSuchMethodError at run time, maybe on a path the
 * integration suite does not take. This test reads every class, method and field reference of the packaged jar
 * (its class files' constant pools) to Tomcat or the jakarta API and resolves each, as the JVM would, against the
 * jars of Tomcat 10.1 and of Tomcat 11.
 */
class TomcatLinkageIT {

    @ParameterizedTest(name = "Tomcat {0}")
    @ValueSource(strings = {"10.1", "11"})
    void everyTomcatMemberMsmUsesExistsInTheLine(String line) throws Exception {
        Path jar = Paths.get(System.getProperty("msm.artifact"));
        Path lib = Paths.get(System.getProperty("msm.tomcatJars"), line);
        List<URL> urls = new ArrayList<>();
        try (Stream<Path> jars = Files.list(lib)) {
            for (Path p : jars.filter(p -> p.toString().endsWith(".jar")).collect(Collectors.toList())) {
                urls.add(p.toUri().toURL());
            }
        }
        assertTrue(urls.size() >= 2, "Tomcat " + line + " jars in " + lib);
        try (URLClassLoader tomcat = new URLClassLoader(urls.toArray(new URL[0]), ClassLoader.getPlatformClassLoader())) {
            Linker linker = new Linker(tomcat);
            // The check itself can fail: a member Tomcat does not have is reported.
            assertEquals(1, linker.missing(new Ref('M', "org/apache/catalina/Manager", "noSuchMethod", "()V")).size());

            Set<String> missing = new TreeSet<>();
            int checked = 0;
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                Enumeration<? extends ZipEntry> entries = zip.entries();
                while (entries.hasMoreElements()) {
                    ZipEntry e = entries.nextElement();
                    if (!e.getName().endsWith(".class")) {
                        continue;
                    }
                    try (InputStream in = zip.getInputStream(e)) {
                        for (Ref ref : ConstantPool.references(in)) {
                            if (ref.owner.startsWith("org/apache/") || ref.owner.startsWith("jakarta/")) {
                                checked++;
                                for (String m : linker.missing(ref)) {
                                    missing.add(e.getName() + " -> " + m);
                                }
                            }
                        }
                    }
                }
            }
            System.out.printf("TomcatLinkageIT: %d references of %s to Tomcat %s checked%n", checked,
                    jar.getFileName(), line);
            assertTrue(checked > 100, "too few references found (" + checked + "): is the scan broken?");
            assertEquals(Set.of(), missing, "msm-tc10 uses what Tomcat " + line + " does not have");
        }
    }

    /** A class ('C'), field ('F') or method ('M') reference from a constant pool. */
    static final class Ref {
        final char kind;
        final String owner;
        final String name;
        final String descriptor;

        Ref(char kind, String owner, String name, String descriptor) {
            this.kind = kind;
            this.owner = owner;
            this.name = name;
            this.descriptor = descriptor;
        }

        @Override
        public String toString() {
            return kind == 'C' ? owner : owner + "." + name + descriptor;
        }
    }

    /** Resolves references the way the JVM does: the member is declared by the class or one of its supertypes. */
    static final class Linker {
        private final ClassLoader loader;

        Linker(ClassLoader loader) {
            this.loader = loader;
        }

        List<String> missing(Ref ref) {
            String owner = ref.owner;
            while (owner.startsWith("[")) {
                owner = owner.substring(1);
            }
            if (owner.startsWith("L") && owner.endsWith(";")) {
                owner = owner.substring(1, owner.length() - 1);
            }
            if (owner.length() == 1) {
                return List.of(); // a primitive array
            }
            Class<?> type;
            try {
                type = Class.forName(owner.replace('/', '.'), false, loader);
            } catch (ClassNotFoundException | LinkageError e) {
                return List.of("class " + owner + " (" + e + ")");
            }
            if (ref.kind == 'C' || declares(type, ref, new HashSet<>())) {
                return List.of();
            }
            return List.of(ref.toString());
        }

        private static boolean declares(Class<?> type, Ref ref, Set<Class<?>> seen) {
            Deque<Class<?>> todo = new ArrayDeque<>();
            todo.add(type);
            while (!todo.isEmpty()) {
                Class<?> c = todo.poll();
                if (!seen.add(c)) {
                    continue;
                }
                if (ref.kind == 'F') {
                    for (Field f : c.getDeclaredFields()) {
                        if (f.getName().equals(ref.name) && f.getType().descriptorString().equals(ref.descriptor)) {
                            return true;
                        }
                    }
                } else if (ref.name.equals("<init>")) {
                    for (Constructor<?> k : c.getDeclaredConstructors()) {
                        if (descriptor(k.getParameterTypes(), void.class).equals(ref.descriptor)) {
                            return true;
                        }
                    }
                    return false; // constructors are not inherited
                } else {
                    for (Method m : c.getDeclaredMethods()) {
                        if (m.getName().equals(ref.name)
                                && descriptor(m.getParameterTypes(), m.getReturnType()).equals(ref.descriptor)) {
                            return true;
                        }
                    }
                }
                if (c.getSuperclass() != null) {
                    todo.add(c.getSuperclass());
                }
                todo.addAll(List.of(c.getInterfaces()));
            }
            return false;
        }

        private static String descriptor(Class<?>[] parameters, Class<?> result) {
            StringBuilder d = new StringBuilder("(");
            for (Class<?> p : parameters) {
                d.append(p.descriptorString());
            }
            return d.append(')').append(result.descriptorString()).toString();
        }
    }

    /** Just enough of the class file format (JVMS 4.4) to list the references of a class. */
    static final class ConstantPool {
        static List<Ref> references(InputStream stream) throws IOException {
            DataInputStream in = new DataInputStream(stream);
            in.readInt(); // magic
            in.readUnsignedShort(); // minor
            in.readUnsignedShort(); // major
            int count = in.readUnsignedShort();
            int[] tag = new int[count];
            int[] a = new int[count];
            int[] b = new int[count];
            String[] utf8 = new String[count];
            for (int i = 1; i < count; i++) {
                tag[i] = in.readUnsignedByte();
                switch (tag[i]) {
                    case 1: utf8[i] = in.readUTF(); break;
                    case 3: case 4: in.readInt(); break;
                    case 5: case 6: in.readLong(); i++; break;
                    case 7: case 8: case 16: case 19: case 20: a[i] = in.readUnsignedShort(); break;
                    case 9: case 10: case 11: case 12: case 17: case 18:
                        a[i] = in.readUnsignedShort();
                        b[i] = in.readUnsignedShort();
                        break;
                    case 15: in.readUnsignedByte(); a[i] = in.readUnsignedShort(); break;
                    default: throw new IOException("unknown constant pool tag " + tag[i] + " at " + i);
                }
            }
            List<Ref> refs = new ArrayList<>();
            for (int i = 1; i < count; i++) {
                if (tag[i] == 7) {
                    refs.add(new Ref('C', utf8[a[i]], null, null));
                } else if (tag[i] == 9 || tag[i] == 10 || tag[i] == 11) {
                    String owner = utf8[a[a[i]]];
                    int nameAndType = b[i];
                    refs.add(new Ref(tag[i] == 9 ? 'F' : 'M', owner, utf8[a[nameAndType]], utf8[b[nameAndType]]));
                }
            }
            return refs;
        }
    }
}
