package io.msm.test.transcoder;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.ObjectStreamClass;
import java.lang.reflect.Constructor;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * The gadget chains of ysoserial (the well-known public collection of Java deserialization payloads: its payload list
 * as printed by {@code java -jar ysoserial.jar}) and the classes each one needs. A chain's <em>key classes</em> are
 * the ones msm must refuse: refusing any one of them breaks the chain, and msm refuses every one. The JDK collections
 * that only carry a chain ({@code HashMap}, {@code PriorityQueue}, dynamic proxies) are not listed.
 *
 * <p>Where the library is on the test class path (commons-collections 3 and 4, commons-beanutils, commons-fileupload,
 * Spring, Groovy, Rhino, Tomcat's EL) or the class is in the JDK, the real class is used. Other classes get a
 * {@link StandIn} compiled under the real name into a webapp class loader ({@link #webapp(Path)}); names that cannot
 * be declared in Java source (a JDK package, a class the JDK no longer has, a generated name) are only written as
 * stream bytes that name them.
 */
public final class GadgetCorpus {
    private GadgetCorpus() {
    }

    static final String TEMPLATES_IMPL = "com.sun.org.apache.xalan.internal.xsltc.trax.TemplatesImpl";
    static final String TRAX_FILTER = "com.sun.org.apache.xalan.internal.xsltc.trax.TrAXFilter";
    static final String ANNOTATION_HANDLER = "sun.reflect.annotation.AnnotationInvocationHandler";
    static final String BAD_ATTRIBUTE = "javax.management.BadAttributeValueExpException";
    static final String CC = "org.apache.commons.collections.";
    static final String CC4 = "org.apache.commons.collections4.";
    /** An application class extending {@code UnicastRemoteObject}: reading one re-exports it (ysoserial JRMPListener). */
    static final String EXPORTED_CART = "com.shop.rmi.ExportedCart";

    /** One payload of the collection. */
    public static final class Chain {
        public final String name;
        /** Classes msm refuses; each alone breaks the chain. */
        public final List<String> keyClasses;
        /** Classes in the chain that msm reads (they are harmless without the key classes). */
        final List<String> carriers;
        /** The object graph to plant, when it is not just one instance of each class. */
        final Function<ClassLoader, Object> graph;

        Chain(String name, List<String> keyClasses, List<String> carriers, Function<ClassLoader, Object> graph) {
            this.name = name;
            this.keyClasses = keyClasses;
            this.carriers = carriers;
            this.graph = graph;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private static Chain chain(String name, String... keyClasses) {
        return new Chain(name, List.of(keyClasses), List.of(), null);
    }

    /** Every payload of ysoserial's list, in its order. */
    public static List<Chain> chains() {
        List<Chain> c = new ArrayList<>();
        c.add(chain("AspectJWeaver", "org.aspectj.weaver.tools.cache.SimpleCache$StoreableCachingMap",
                CC + "functors.ConstantTransformer", CC + "keyvalue.TiedMapEntry"));
        c.add(chain("BeanShell1", "bsh.XThis", "bsh.XThis$Handler", "bsh.Interpreter"));
        c.add(chain("C3P0", "com.mchange.v2.c3p0.PoolBackedDataSource",
                "com.mchange.v2.c3p0.impl.PoolBackedDataSourceBase",
                "com.mchange.v2.naming.ReferenceIndirector$ReferenceSerialized"));
        c.add(chain("Click1", "org.apache.click.control.Column$ColumnComparator", TEMPLATES_IMPL));
        c.add(chain("Clojure", "clojure.inspector.proxy$javax.swing.table.AbstractTableModel$ff19274a",
                "clojure.core$comp", "clojure.core$constantly", "clojure.main$eval_opt"));
        c.add(chain("CommonsBeanutils1", "org.apache.commons.beanutils.BeanComparator", TEMPLATES_IMPL));
        c.add(chain("CommonsCollections1", ANNOTATION_HANDLER, CC + "functors.ChainedTransformer",
                CC + "functors.ConstantTransformer", CC + "functors.InvokerTransformer"));
        c.add(chain("CommonsCollections2", CC4 + "comparators.TransformingComparator",
                CC4 + "functors.InvokerTransformer", TEMPLATES_IMPL));
        c.add(chain("CommonsCollections3", CC + "functors.InstantiateTransformer", TRAX_FILTER, ANNOTATION_HANDLER,
                CC + "functors.ChainedTransformer", CC + "functors.ConstantTransformer"));
        c.add(chain("CommonsCollections4", CC4 + "functors.InstantiateTransformer", CC4 + "functors.ChainedTransformer",
                CC4 + "functors.ConstantTransformer", CC4 + "comparators.TransformingComparator", TRAX_FILTER));
        c.add(chain("CommonsCollections5", BAD_ATTRIBUTE, CC + "keyvalue.TiedMapEntry",
                CC + "functors.ChainedTransformer", CC + "functors.InvokerTransformer"));
        c.add(chain("CommonsCollections6", CC + "keyvalue.TiedMapEntry", CC + "functors.ChainedTransformer",
                CC + "functors.ConstantTransformer", CC + "functors.InvokerTransformer"));
        c.add(chain("CommonsCollections7", CC + "functors.ChainedTransformer", CC + "functors.ConstantTransformer",
                CC + "functors.InvokerTransformer"));
        c.add(chain("FileUpload1", "org.apache.commons.fileupload.disk.DiskFileItem"));
        c.add(chain("Groovy1", "org.codehaus.groovy.runtime.ConvertedClosure",
                "org.codehaus.groovy.runtime.MethodClosure", ANNOTATION_HANDLER));
        c.add(chain("Hibernate1", "org.hibernate.engine.spi.TypedValue",
                "org.hibernate.tuple.component.PojoComponentTuplizer",
                "org.hibernate.property.BasicPropertyAccessor$BasicGetter",
                "org.hibernate.property.access.spi.GetterMethodImpl", TEMPLATES_IMPL));
        c.add(chain("Hibernate2", "org.hibernate.engine.spi.TypedValue",
                "org.hibernate.tuple.component.PojoComponentTuplizer", "com.sun.rowset.JdbcRowSetImpl"));
        c.add(chain("JBossInterceptors1", "org.jboss.interceptor.proxy.InterceptorMethodHandler",
                "org.jboss.interceptor.reader.SimpleInterceptorMetadata",
                "org.jboss.interceptor.reader.ClassMetadataInterceptorReference",
                "org.jboss.interceptor.reader.DefaultMethodMetadata", TEMPLATES_IMPL));
        c.add(chain("JRMPClient", "java.rmi.server.RemoteObjectInvocationHandler", "sun.rmi.server.UnicastRef",
                "java.rmi.registry.Registry"));
        c.add(chain("JRMPListener", "sun.rmi.server.ActivationGroupImpl", "java.rmi.server.UnicastRemoteObject",
                "java.rmi.server.RemoteObject", "sun.rmi.server.UnicastServerRef",
                "java.rmi.activation.ActivationGroupID", EXPORTED_CART));
        c.add(chain("JSON1", "net.sf.json.JSONObject", "org.springframework.aop.framework.JdkDynamicAopProxy",
                "org.springframework.aop.framework.AdvisedSupport", "javax.management.openmbean.TabularDataSupport",
                "javax.management.openmbean.CompositeType",
                "com.sun.corba.se.spi.orbutil.proxy.CompositeInvocationHandlerImpl", TEMPLATES_IMPL));
        c.add(chain("JavassistWeld1", "org.jboss.weld.interceptor.proxy.InterceptorMethodHandler",
                "org.jboss.weld.interceptor.reader.SimpleInterceptorMetadata",
                "org.jboss.weld.interceptor.reader.ClassMetadataInterceptorReference",
                "org.jboss.weld.interceptor.reader.DefaultMethodMetadata", TEMPLATES_IMPL));
        c.add(chain("Jdk7u21", TEMPLATES_IMPL, ANNOTATION_HANDLER));
        c.add(chain("Jython1", "org.python.core.PyFunction", "org.python.core.PyBytecode"));
        c.add(chain("MozillaRhino1", "org.mozilla.javascript.NativeError", "org.mozilla.javascript.MemberBox",
                "org.mozilla.javascript.NativeJavaObject", BAD_ATTRIBUTE, TEMPLATES_IMPL));
        c.add(chain("MozillaRhino2", "org.mozilla.javascript.NativeJavaObject",
                "org.mozilla.javascript.NativeJavaArray", "org.mozilla.javascript.tools.shell.Environment",
                "org.mozilla.javascript.ClassCache", "org.mozilla.javascript.MemberBox", TEMPLATES_IMPL));
        // Myfaces1/2: the EL implementation's ValueExpressionImpl is evaluated by MyFaces' wrapper's hashCode();
        // msm refuses the wrapper and reads Tomcat's ValueExpressionImpl (JSF view state holds it).
        for (String myfaces : List.of("Myfaces1", "Myfaces2")) {
            c.add(new Chain(myfaces, List.of("org.apache.myfaces.view.facelets.el.ValueExpressionMethodExpression"),
                    List.of("org.apache.el.ValueExpressionImpl"), GadgetCorpus::myfacesGraph));
        }
        c.add(chain("ROME", "com.sun.syndication.feed.impl.ObjectBean", "com.sun.syndication.feed.impl.ToStringBean",
                "com.sun.syndication.feed.impl.EqualsBean", TEMPLATES_IMPL));
        c.add(chain("Spring1", "org.springframework.core.SerializableTypeWrapper$MethodInvokeTypeProvider",
                "org.springframework.beans.factory.support.AutowireUtils$ObjectFactoryDelegatingInvocationHandler",
                ANNOTATION_HANDLER, TEMPLATES_IMPL));
        c.add(chain("Spring2", "org.springframework.aop.framework.JdkDynamicAopProxy",
                "org.springframework.aop.framework.AdvisedSupport", "org.springframework.aop.target.SingletonTargetSource",
                "org.springframework.core.SerializableTypeWrapper$MethodInvokeTypeProvider", TEMPLATES_IMPL));
        // URLDNS: a URL as a hash key; reading hashes it, and URL.hashCode() resolves the host (a DNS lookup).
        c.add(new Chain("URLDNS", List.of(), List.of(), loader -> {
            Map<Object, Object> m = new HashMap<>();
            m.put(url("http://localhost/urldns"), "x"); // localhost: the lookup this test makes stays on the machine
            return m;
        }));
        c.add(chain("Vaadin1", "com.vaadin.data.util.NestedMethodProperty", "com.vaadin.data.util.PropertysetItem",
                BAD_ATTRIBUTE, "org.apache.xalan.xsltc.trax.TemplatesImpl"));
        c.add(chain("Wicket1", "org.apache.wicket.util.upload.DiskFileItem",
                "org.apache.wicket.util.io.DeferredFileOutputStream"));
        return c;
    }

    /** Every key class of every chain, once, sorted. */
    public static List<String> keyClasses() {
        TreeSet<String> all = new TreeSet<>();
        chains().forEach(c -> all.addAll(c.keyClasses));
        return new ArrayList<>(all);
    }

    static URL url(String spec) {
        try {
            return URI.create(spec).toURL();
        } catch (java.net.MalformedURLException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static Object myfacesGraph(ClassLoader loader) {
        List<Object> graph = new ArrayList<>();
        graph.add(instance(loader, "org.apache.myfaces.view.facelets.el.ValueExpressionMethodExpression"));
        org.apache.el.ExpressionFactoryImpl factory = new org.apache.el.ExpressionFactoryImpl();
        graph.add(factory.createValueExpression(new jakarta.el.StandardELContext(factory), "${1 + 1}",
                Object.class));
        return graph;
    }

    /** The graph a chain's blob carries: its own, or one instance of each class that can be made here. */
    static Object graph(Chain chain, ClassLoader loader) {
        if (chain.graph != null) {
            return chain.graph.apply(loader);
        }
        List<Object> graph = new ArrayList<>();
        for (String name : chain.keyClasses) {
            Object o = instance(loader, name);
            if (o != null) {
                graph.add(o);
            }
        }
        return graph;
    }

    /**
     * An instance of the class as deserialization makes one (through the first non-serializable superclass's
     * constructor, so no constructor of the class itself runs), or {@code null} if the class is not here or not
     * serializable.
     */
    static Object instance(ClassLoader loader, String name) {
        Class<?> c = load(loader, name);
        if (c == null || !java.io.Serializable.class.isAssignableFrom(c) || c.isInterface()) {
            return null;
        }
        try {
            Class<?> rf = Class.forName("sun.reflect.ReflectionFactory");
            Object factory = rf.getMethod("getReflectionFactory").invoke(null);
            Constructor<?> k = (Constructor<?>) rf.getMethod("newConstructorForSerialization", Class.class)
                    .invoke(factory, c);
            return k == null ? null : k.newInstance();
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return null;
        }
    }

    static Class<?> load(ClassLoader loader, String name) {
        try {
            return Class.forName(name, false, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
    }

    /** The serialVersionUID a stream naming the class must carry to match it here (1 if it is not here). */
    public static long serialVersionUid(ClassLoader loader, String name) {
        Class<?> c = load(loader, name);
        ObjectStreamClass d = c == null ? null : ObjectStreamClass.lookup(c);
        return d == null ? 1L : d.getSerialVersionUID();
    }

    /**
     * Compiles a stand-in for every key class the test class path lacks and Java source can declare, into
     * {@code dir}, and returns a class loader for them whose parent is the test class path: the webapp a gadget
     * would be planted for.
     */
    public static ClassLoader webapp(Path dir) throws IOException {
        ClassLoader parent = GadgetCorpus.class.getClassLoader();
        Map<String, List<String>> nestedByOuter = new LinkedHashMap<>();
        for (String name : keyClasses()) {
            if (load(parent, name) != null || !declarable(name)) {
                continue;
            }
            int dollar = name.indexOf('$');
            String outer = dollar < 0 ? name : name.substring(0, dollar);
            List<String> nested = nestedByOuter.computeIfAbsent(outer, k -> new ArrayList<>());
            if (dollar >= 0) {
                nested.add(name.substring(dollar + 1));
            }
        }
        List<String> files = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : nestedByOuter.entrySet()) {
            files.add(write(dir, e.getKey(), standIn(e.getKey(), e.getValue())).toString());
        }
        files.add(write(dir, EXPORTED_CART, "package com.shop.rmi;\n"
                + "public class ExportedCart extends java.rmi.server.UnicastRemoteObject {\n"
                + "  private static final long serialVersionUID = 1L;\n"
                + "  public ExportedCart() throws java.rmi.RemoteException { super(); }\n"
                + "  private void readObject(java.io.ObjectInputStream in) throws Exception {\n"
                + "    io.msm.test.transcoder.StandIn.RAN.add(getClass().getName()); in.defaultReadObject(); }\n"
                + "}\n").toString());
        List<String> args = new ArrayList<>(List.of("--release", "17", "-nowarn", "-d", dir.toString(), "-cp",
                Path.of(URI.create(StandIn.class.getProtectionDomain().getCodeSource().getLocation().toString()))
                        .toString()));
        args.addAll(files);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertEquals(0, javac.run(null, null, null, args.toArray(new String[0])), "stand-ins compile");
        return new URLClassLoader(new URL[] {dir.toUri().toURL()}, parent);
    }

    /**
     * A name Java source can declare in a webapp: not in {@code java.*} nor in a package of a JDK module (the JDK's
     * own class loaders answer for those), no {@code $} in the package part.
     */
    private static boolean declarable(String name) {
        String pkg = name.substring(0, name.lastIndexOf('.'));
        return !pkg.contains("$") && !pkg.startsWith("java.")
                && ModuleLayer.boot().modules().stream().noneMatch(m -> m.getPackages().contains(pkg));
    }

    private static String standIn(String outer, List<String> nested) {
        int dot = outer.lastIndexOf('.');
        StringBuilder s = new StringBuilder("package ").append(outer, 0, dot).append(";\n");
        s.append(body(outer.substring(dot + 1), "public class", nested));
        return s.toString();
    }

    private static String body(String simpleName, String declaration, List<String> nested) {
        StringBuilder s = new StringBuilder(declaration).append(' ').append(simpleName)
                .append(" extends io.msm.test.transcoder.StandIn {\n")
                .append("  private static final long serialVersionUID = 1L;\n")
                .append("  private void readObject(java.io.ObjectInputStream in) throws Exception {\n")
                .append("    io.msm.test.transcoder.StandIn.RAN.add(getClass().getName()); in.defaultReadObject(); }\n");
        for (String n : nested) {
            s.append(body(n, "public static class", List.of()));
        }
        return s.append("}\n").toString();
    }

    private static Path write(Path dir, String className, String source) throws IOException {
        Path file = dir.resolve(className.replace('.', '/') + ".java");
        Files.createDirectories(file.getParent());
        Files.writeString(file, source);
        return file;
    }
}
