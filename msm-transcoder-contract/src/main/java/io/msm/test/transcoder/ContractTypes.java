package io.msm.test.transcoder;

import java.io.Serializable;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Classes of the kind sessions hold, used as contract cases. All are {@link Serializable} so every transcoder can try. */
public final class ContractTypes {
    private ContractTypes() {
    }

    public enum Color { RED, GREEN, BLUE }

    /** Constants with bodies are anonymous subclasses of the enum. */
    public enum Op {
        PLUS {
            @Override
            int apply(int a, int b) {
                return a + b;
            }
        },
        TIMES {
            @Override
            int apply(int a, int b) {
                return a * b;
            }
        };

        abstract int apply(int a, int b);
    }

    public record Point(int x, int y) implements Serializable {
    }

    public record Order(String id, List<Point> points, Color color, BigDecimal total) implements Serializable {
    }

    /** A logged-in user: no no-arg constructor, final fields. */
    public static final class User implements Serializable {
        private static final long serialVersionUID = 1L;
        private final String name;
        private final List<String> roles;
        private final LocalDate since;

        public User(String name, List<String> roles, LocalDate since) {
            this.name = name;
            this.roles = roles;
            this.since = since;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof User && ((User) o).name.equals(name) && ((User) o).roles.equals(roles)
                    && ((User) o).since.equals(since);
        }

        @Override
        public int hashCode() {
            return Objects.hash(name, roles, since);
        }

        @Override
        public String toString() {
            return "User[" + name + ", " + roles + ", " + since + "]";
        }
    }

    /** A (non-static) inner class: its instances hold their outer instance. */
    public static final class Wizard implements Serializable {
        private static final long serialVersionUID = 1L;
        final String title;
        final List<Step> steps = new ArrayList<>();

        public Wizard(String title) {
            this.title = title;
        }

        public Step addStep(String name) {
            Step s = new Step(name);
            steps.add(s);
            return s;
        }

        public final class Step implements Serializable {
            private static final long serialVersionUID = 1L;
            final String name;

            Step(String name) {
                this.name = name;
            }

            public Wizard wizard() {
                return Wizard.this;
            }

            public String name() {
                return name;
            }
        }

        public List<Step> steps() {
            return steps;
        }

        public String title() {
            return title;
        }
    }

    /** A node of a cyclic graph: parent and children point at each other. */
    public static final class Node implements Serializable {
        private static final long serialVersionUID = 1L;
        public String name;
        public Node parent;
        public List<Node> children = new ArrayList<>();

        public Node(String name) {
            this.name = name;
        }

        public Node child(String childName) {
            Node c = new Node(childName);
            c.parent = this;
            children.add(c);
            return c;
        }
    }

    public interface Greeter {
        String greet(String who);
    }

    /** The handler behind a JDK dynamic proxy. */
    public static final class PrefixHandler implements InvocationHandler, Serializable {
        private static final long serialVersionUID = 1L;
        final String prefix;

        public PrefixHandler(String prefix) {
            this.prefix = prefix;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) {
            switch (method.getName()) {
                case "hashCode": return prefix.hashCode();
                case "equals": return proxy == args[0];
                case "toString": return "Greeter(" + prefix + ")";
                default: return prefix + args[0]; // the interface's one String method
            }
        }
    }
}
