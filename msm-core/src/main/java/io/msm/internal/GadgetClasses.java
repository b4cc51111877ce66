package io.msm.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The classes msm's serializers never read from memcached, one list for both: known deserialization gadget classes
 * (every chain of ysoserial's payload list needs one of them) and JDK classes that run code or reach the network or
 * the file system when built. A pattern is a class name, or a package followed by {@code .**}: that package and
 * every package below it, as in a JEP 290 filter ({@code !pattern} refuses the same classes there). A class is
 * refused when it, or any of its superclasses, matches; an array when its component class is.
 */
public final class GadgetClasses {
    private GadgetClasses() {
    }

    /** The refused classes and packages, in JEP 290 syntax. */
    public static final List<String> PATTERNS = List.of(
            // commons-collections 3 and 4: transformers that call any method, and what calls them
            "org.apache.commons.collections.functors.**",
            "org.apache.commons.collections4.functors.**",
            "org.apache.commons.collections.keyvalue.TiedMapEntry",
            "org.apache.commons.collections4.keyvalue.TiedMapEntry",
            "org.apache.commons.collections.comparators.TransformingComparator",
            "org.apache.commons.collections4.comparators.TransformingComparator",
            "org.apache.commons.beanutils.BeanComparator",
            "org.apache.commons.fileupload.disk.DiskFileItem",
            "org.codehaus.groovy.runtime.**",
            "groovy.util.Expando",
            // XSLT translets: TemplatesImpl defines classes from bytes
            "org.apache.xalan.xsltc.trax.**",
            "com.sun.org.apache.xalan.internal.xsltc.trax.**",
            "com.sun.org.apache.xpath.internal.objects.**",
            "org.springframework.beans.factory.**",
            "org.springframework.aop.**",
            "org.springframework.core.SerializableTypeWrapper$MethodInvokeTypeProvider",
            // spring-tx: readObject looks userTransactionName up in JNDI (an ldap: name deserializes what it returns)
            "org.springframework.transaction.jta.JtaTransactionManager",
            "com.mchange.v2.c3p0.**",
            "com.mchange.v2.naming.**",
            "org.hibernate.engine.spi.**",
            "org.hibernate.tuple.component.**",
            "org.hibernate.property.**",
            "bsh.**",
            "com.sun.rowset.**",
            "javax.management.BadAttributeValueExpException",
            "javax.management.openmbean.**",
            // JNDI, RMI (outbound JRMP: RemoteObject and its subclasses, UnicastRef, activation), reflection
            "javax.naming.**",
            "com.sun.jndi.**",
            "java.rmi.**",
            "sun.rmi.**",
            "sun.reflect.**",
            "java.lang.reflect.Method",
            "java.lang.reflect.Constructor",
            "java.lang.reflect.Field",
            "java.beans.EventHandler",
            "java.lang.ProcessBuilder",
            "java.lang.Runtime",
            "jdk.internal.**",
            "jdk.nashorn.**",
            "javax.script.**",
            "javax.imageio.**",
            "javax.swing.**",
            "sun.swing.**",
            "com.sun.xml.internal.**",
            "com.sun.corba.**",
            "org.mozilla.javascript.**",
            "org.python.core.**",
            "clojure.**",
            "com.rometools.rome.feed.impl.**",
            "com.sun.syndication.feed.impl.**",
            "net.sf.json.**",
            "org.apache.wicket.util.upload.**",
            "org.apache.wicket.util.io.DeferredFileOutputStream",
            "org.jboss.interceptor.**",
            "org.jboss.weld.interceptor.**",
            "org.apache.myfaces.**",
            "com.vaadin.data.util.**",
            "org.aspectj.weaver.tools.cache.SimpleCache$StoreableCachingMap",
            "org.apache.click.control.Column$ColumnComparator",
            // connection pools and JDBC helpers that open JNDI or JDBC URLs when built
            "org.apache.tomcat.dbcp.**",
            "org.apache.commons.dbcp.**",
            "org.apache.commons.dbcp2.**",
            "com.zaxxer.hikari.**",
            "org.apache.ibatis.**",
            "ch.qos.logback.core.db.**");

    private static final Patterns DEFAULT = new Patterns(PATTERNS);

    /** The JEP 290 filter pattern that refuses {@link #PATTERNS} by name: {@code !p1;!p2;...}. */
    public static String filterPattern() {
        StringBuilder s = new StringBuilder();
        for (String p : PATTERNS) {
            s.append(s.length() == 0 ? "!" : ";!").append(p);
        }
        return s.toString();
    }

    /** The pattern refusing this class name (arrays by their component), or {@code null}: the name alone. */
    public static String denyingPattern(String className) {
        return DEFAULT.matching(className);
    }

    /** The pattern refusing this class, an array of it, or a superclass of it; {@code null} if none does. */
    public static String denyingPattern(Class<?> type) {
        return DEFAULT.denyingPattern(type);
    }

    /**
     * A set of patterns with the meaning above. {@code <package>.*} is read like {@code <package>.**} (that
     * package and every package below it), as msm's Kryo customizers' lists have always meant it; the default list
     * uses {@code .**} only, so it means the same in a JEP 290 filter.
     */
    public static final class Patterns {
        private final Set<String> exact = new HashSet<>();
        private final List<String> prefixes = new ArrayList<>();
        private final List<String> prefixPatterns = new ArrayList<>();

        /**
         * @throws IllegalArgumentException for a pattern with a {@code *} elsewhere
         */
        public Patterns(Collection<String> patterns) {
            for (String p : patterns) {
                String pattern = p.trim();
                if (pattern.isEmpty()) {
                    continue;
                }
                String pkg = pattern.endsWith(".**") ? pattern.substring(0, pattern.length() - 2)
                        : pattern.endsWith(".*") ? pattern.substring(0, pattern.length() - 1) : null;
                if (pkg != null && !pkg.contains("*") && pkg.length() > 1) {
                    prefixes.add(pkg); // keeps the dot
                    prefixPatterns.add(pattern);
                } else if (pattern.contains("*")) {
                    throw new IllegalArgumentException("bad class pattern \"" + pattern
                            + "\": expected a class name or <package>.**");
                } else {
                    exact.add(pattern);
                }
            }
        }

        /** The pattern this class name matches (arrays by their component), or {@code null}. */
        public String matching(String className) {
            String name = componentName(className);
            if (exact.contains(name)) {
                return name;
            }
            for (int i = 0; i < prefixes.size(); i++) {
                if (name.startsWith(prefixes.get(i))) {
                    return prefixPatterns.get(i);
                }
            }
            return null;
        }

        /** The pattern refusing this class (arrays by their component), or one of its superclasses; or null. */
        public String denyingPattern(Class<?> type) {
            Class<?> component = type;
            while (component.isArray()) {
                component = component.getComponentType();
            }
            for (Class<?> c = component; c != null && c != Object.class; c = c.getSuperclass()) {
                String p = matching(c.getName());
                if (p != null) {
                    return c == component ? p : p + " (superclass " + c.getName() + ")";
                }
            }
            return null;
        }

        private static String componentName(String className) {
            if (!className.startsWith("[")) {
                return className;
            }
            int i = className.lastIndexOf('[') + 1;
            return className.charAt(i) == 'L' && className.endsWith(";")
                    ? className.substring(i + 1, className.length() - 1) : className;
        }
    }
}
