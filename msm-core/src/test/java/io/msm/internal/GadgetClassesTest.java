package io.msm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ObjectInputFilter;
import java.rmi.RemoteException;
import java.rmi.server.UnicastRemoteObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import org.junit.jupiter.api.Test;

class GadgetClassesTest {

    /** Names from the review: a JEP 290 {@code pkg.*} would have let each of these through. */
    @Test
    void packagePatternsCoverEveryPackageBelow() {
        assertEquals("org.springframework.aop.**",
                GadgetClasses.denyingPattern("org.springframework.aop.framework.JdkDynamicAopProxy"));
        assertEquals("sun.rmi.**", GadgetClasses.denyingPattern("sun.rmi.server.UnicastRef"));
        assertEquals("com.sun.jndi.**", GadgetClasses.denyingPattern("com.sun.jndi.rmi.registry.ReferenceWrapper"));
        assertEquals("org.apache.myfaces.**",
                GadgetClasses.denyingPattern("org.apache.myfaces.view.facelets.el.ValueExpressionMethodExpression"));
        assertEquals("sun.rmi.**", GadgetClasses.denyingPattern("[[Lsun.rmi.server.UnicastRef;"));
        assertNull(GadgetClasses.denyingPattern("org.apache.el.ValueExpressionImpl"));
        assertNull(GadgetClasses.denyingPattern("java.util.HashMap"));
        assertNull(GadgetClasses.denyingPattern("org.springframework.aopx.Thing"), "a package, not a name prefix");
    }

    /**
     * Spring's JtaTransactionManager looks its userTransactionName up in JNDI in its readObject (a well-known chain
     * outside ysoserial's list): an ldap: name makes the Tomcat fetch and deserialize whatever that server sends,
     * outside msm's filter. Refusing javax.naming does not stop it: the lookup is the class's own code. spring-tx is
     * on the class path of most Spring applications.
     */
    @Test
    void springsJtaTransactionManagerIsRefused() {
        assertNotNull(GadgetClasses.denyingPattern("org.springframework.transaction.jta.JtaTransactionManager"));
        assertTrue(GadgetClasses.filterPattern().contains("!org.springframework.transaction.jta.JtaTransactionManager"));
    }

    /** The list means the same to msm's matcher and to a JEP 290 filter made from it, for every class here. */
    @Test
    void theJep290PatternAndTheMatcherAgree() throws Exception {
        ObjectInputFilter jep290 = ObjectInputFilter.Config.createFilter(GadgetClasses.filterPattern());
        List<String> names = List.of("sun.rmi.server.UnicastRef", "com.sun.jndi.rmi.registry.ReferenceWrapper",
                "java.rmi.server.RemoteObjectInvocationHandler", "java.rmi.server.UnicastRemoteObject",
                "java.rmi.server.RemoteObject", "sun.reflect.annotation.AnnotationInvocationHandler",
                "com.sun.org.apache.xalan.internal.xsltc.trax.TemplatesImpl",
                "com.sun.org.apache.xalan.internal.xsltc.trax.TrAXFilter", "com.sun.rowset.JdbcRowSetImpl",
                "javax.management.BadAttributeValueExpException", "javax.management.openmbean.TabularDataSupport",
                "java.lang.reflect.Method", "java.beans.EventHandler", "javax.swing.JPanel", "java.util.HashMap",
                "java.lang.String", "java.net.URL", "java.time.LocalDate", "javax.management.Attribute");
        for (String name : names) {
            Class<?> c = Class.forName(name, false, getClass().getClassLoader());
            ObjectInputFilter.Status status = jep290.checkInput(new ClassOnly(c));
            boolean denied = GadgetClasses.denyingPattern(name) != null;
            assertEquals(denied ? ObjectInputFilter.Status.REJECTED : ObjectInputFilter.Status.UNDECIDED, status,
                    name);
        }
        for (String p : GadgetClasses.PATTERNS) {
            assertFalse(p.endsWith(".*") && !p.endsWith(".**"), p + ": a JEP 290 .* would miss subpackages");
        }
    }

    static class ExportedCart extends UnicastRemoteObject {
        private static final long serialVersionUID = 1L;

        ExportedCart() throws RemoteException {
            super();
        }
    }

    static class CartList extends ArrayList<String> {
        private static final long serialVersionUID = 1L;
    }

    @Test
    void aSubclassOfARefusedClassIsRefused() {
        String p = GadgetClasses.denyingPattern(ExportedCart.class);
        assertNotNull(p);
        assertTrue(p.startsWith("java.rmi.**") && p.contains("java.rmi.server.UnicastRemoteObject"), p);
        assertNotNull(GadgetClasses.denyingPattern(ExportedCart[].class));
        assertNull(GadgetClasses.denyingPattern(CartList.class));
        assertNull(GadgetClasses.denyingPattern(HashMap.class));
        assertNull(GadgetClasses.denyingPattern(int[].class));
    }

    @Test
    void customPatternsKeepMeaningPackageAndBelowAndRefuseOtherWildcards() {
        GadgetClasses.Patterns p = new GadgetClasses.Patterns(List.of("com.shop.internal.*", "com.shop.Key"));
        assertEquals("com.shop.internal.*", p.matching("com.shop.internal.deep.Secret"));
        assertEquals("com.shop.Key", p.matching("com.shop.Key"));
        assertNull(p.matching("com.shop.KeyRing"));
        assertThrows(IllegalArgumentException.class, () -> new GadgetClasses.Patterns(List.of("com.*.Key")));
    }

    /** A class alone, as a JEP 290 filter sees it. */
    private static final class ClassOnly implements ObjectInputFilter.FilterInfo {
        private final Class<?> type;

        ClassOnly(Class<?> type) {
            this.type = type;
        }

        @Override
        public Class<?> serialClass() {
            return type;
        }

        @Override
        public long arrayLength() {
            return -1;
        }

        @Override
        public long depth() {
            return 1;
        }

        @Override
        public long references() {
            return 0;
        }

        @Override
        public long streamBytes() {
            return 0;
        }
    }
}
