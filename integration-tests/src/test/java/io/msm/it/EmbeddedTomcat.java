package io.msm.it;

import io.msm.tomcat.MemcachedSessionManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.authenticator.BasicAuthenticator;
import org.apache.catalina.authenticator.FormAuthenticator;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.LoginConfig;
import org.apache.tomcat.util.descriptor.web.SecurityCollection;
import org.apache.tomcat.util.descriptor.web.SecurityConstraint;

/** An embedded Tomcat 9 on a free loopback port with the test webapp at "/" managed by msm. */
final class EmbeddedTomcat implements AutoCloseable {
    /** System property naming the serializer every Tomcat of the suite uses (unset: msm's default). */
    static final String TRANSCODER_PROPERTY = "msm.it.transcoderFactoryClass";

    private final Tomcat tomcat = new Tomcat();
    private final String route;
    private final Context context;
    /** The context path, percent-encoded as in a URL ("" for the root context). */
    private final String encodedPath;
    private final MemcachedSessionManager manager = new MemcachedSessionManager();
    /** The msm attributes of {@link #manager}, for {@link #deployVersion}. */
    private final Map<String, String> attributes;
    private final String contextPath;
    private final Path base;
    private boolean stopped;

    private EmbeddedTomcat(String route, Map<String, String> attributes, String login, boolean otherContext,
            String host, String contextPath, int expiryCheckSeconds) {
        this(route, attributes, login, otherContext, host, contextPath, expiryCheckSeconds, null, null);
    }

    private EmbeddedTomcat(String route, Map<String, String> attributes, String login, boolean otherContext,
            String host, String contextPath, int expiryCheckSeconds, String managerClass, String webappVersion) {
        this.route = route;
        this.attributes = new LinkedHashMap<>(attributes);
        this.contextPath = contextPath;
        try {
            base = Files.createTempDirectory("msm-tomcat-" + route);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        tomcat.setBaseDir(base.toString());
        tomcat.setHostname(host);
        tomcat.getEngine().setName("engine-" + route);
        tomcat.getEngine().setJvmRoute(route);
        tomcat.getConnector().setPort(0);
        tomcat.getConnector().setProperty("address", "127.0.0.1");
        tomcat.getHost().setAutoDeploy(false);
        if (expiryCheckSeconds > 0) {
            // Tomcat's own timeout check (processExpires) every expiryCheckSeconds instead of every 60 s
            tomcat.getEngine().setBackgroundProcessorDelay(expiryCheckSeconds);
            manager.setProcessExpiresFrequency(1);
        }
        context = tomcat.addContext(contextPath, base.toString());
        if (webappVersion != null) { // parallel deployment: the context named path##version
            context.setName(contextPath + "##" + webappVersion);
            context.setWebappVersion(webappVersion);
        }
        encodedPath = java.net.URLEncoder.encode(contextPath, java.nio.charset.StandardCharsets.UTF_8)
                .replace("%2F", "/");
        String transcoder = System.getProperty(TRANSCODER_PROPERTY);
        if (transcoder != null && !transcoder.isBlank() && !attributes.containsKey("transcoderFactoryClass")) {
            setAttribute(manager, "transcoderFactoryClass", transcoder); // the suite runs once per serializer
        }
        if (managerClass == null) {
            attributes.forEach((k, v) -> setAttribute(manager, k, v));
            context.setManager(manager);
        } else {
            context.setManager(otherManager(managerClass, attributes));
        }
        TestApp.install(context, route);
        context.addLifecycleListener(event -> {
            // a reload drops what was added in code (as web.xml's content): add it again, as web.xml would be read
            if (org.apache.catalina.Lifecycle.CONFIGURE_START_EVENT.equals(event.getType())
                    && context.findChildren().length == 0) {
                TestApp.install(context, route);
            }
        });
        if (login != null) {
            configureLogin(login);
        }
        if (otherContext) {
            context.setCrossContext(true);
            Context other = tomcat.addContext("/other", base.toString());
            MemcachedSessionManager otherManager = new MemcachedSessionManager();
            attributes.forEach((k, v) -> setAttribute(otherManager, k, v));
            other.setManager(otherManager);
            TestApp.install(other, route);
        }
    }

    static Builder on(String route) {
        return new Builder(route);
    }

    /** Configures and starts Tomcats. */
    static final class Builder {
        private final String route;
        private final Map<String, String> attributes = new LinkedHashMap<>();
        private String login;
        private boolean otherContext;
        private String host = "127.0.0.1";
        private String contextPath = "";
        private int expiryCheckSeconds;
        private String managerClass;
        private String webappVersion;

        private Builder(String route) {
            this.route = route;
        }

        Builder with(String attribute, String value) {
            attributes.put(attribute, value);
            return this;
        }

        Builder formLogin() {
            login = "FORM";
            return this;
        }

        Builder basicLogin() {
            login = "BASIC";
            return this;
        }

        /** FORM login against {@link BadgeRealm}: the principal carries an object of the application's own. */
        Builder badgeLogin() {
            login = "BADGE";
            return this;
        }

        /** BASIC login against {@link BadgeRealm}. */
        Builder badgeBasicLogin() {
            login = "BADGE_BASIC";
            return this;
        }

        /** Tomcat checks the sessions it holds for their timeout every {@code seconds} (stock: 60 s). */
        Builder expiryCheckEvery(int seconds) {
            expiryCheckSeconds = seconds;
            return this;
        }

        /** Adds a second msm webapp at /other, reachable from "/" by cross-context dispatch. */
        Builder withOtherContext() {
            otherContext = true;
            return this;
        }

        /** The name of Tomcat's (only, default) virtual host; every request reaches it. */
        Builder host(String name) {
            host = name;
            return this;
        }

        /** The test webapp's context path instead of "/" ({@link #url} adds it). */
        Builder contextPath(String path) {
            contextPath = path;
            return this;
        }

        /** Another session manager than msm's, with the same attributes (memcached-session-manager's). */
        Builder manager(String className) {
            managerClass = className;
            return this;
        }

        /** Deploys the webapp as version {@code version} of its path (context name {@code path##version}). */
        Builder webappVersion(String version) {
            webappVersion = version;
            return this;
        }

        EmbeddedTomcat start() {
            EmbeddedTomcat t = new EmbeddedTomcat(route, attributes, login, otherContext, host, contextPath,
                    expiryCheckSeconds, managerClass, webappVersion);
            t.startTomcat();
            return t;
        }

        /** Starts Tomcat even if the context fails (tests of bad configuration). */
        EmbeddedTomcat startAllowingFailure() {
            EmbeddedTomcat t = new EmbeddedTomcat(route, attributes, login, otherContext, host, contextPath,
                    expiryCheckSeconds);
            try {
                t.tomcat.start();
            } catch (LifecycleException e) {
                // the context's state tells
            }
            return t;
        }
    }

    /** A manager of another class (memcached-session-manager's), named by its class so no source depends on it. */
    private static org.apache.catalina.Manager otherManager(String className, Map<String, String> attributes) {
        try {
            org.apache.catalina.Manager m = (org.apache.catalina.Manager) Class.forName(className)
                    .getDeclaredConstructor().newInstance();
            attributes.forEach((k, v) -> {
                if (!org.apache.tomcat.util.IntrospectionUtils.setProperty(m, k, v)) {
                    throw new IllegalArgumentException("no attribute " + k + " on " + className);
                }
            });
            return m;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot create " + className, e);
        }
    }

    private static void setAttribute(MemcachedSessionManager m, String name, String value) {
        String setter = "set" + Character.toUpperCase(name.charAt(0)) + name.substring(1);
        try {
            MemcachedSessionManager.class.getMethod(setter, String.class).invoke(m, value);
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("no attribute " + name, e);
        }
    }

    private void configureLogin(String method) {
        boolean form = "FORM".equals(method) || "BADGE".equals(method);
        LoginConfig lc = form
                ? new LoginConfig("FORM", null, "/login.html", "/error.html")
                : new LoginConfig("BASIC", "msm", null, null);
        if (method.startsWith("BADGE")) {
            context.setRealm(new BadgeRealm());
        }
        context.setLoginConfig(lc);
        SecurityConstraint constraint = new SecurityConstraint();
        constraint.addAuthRole("user");
        SecurityCollection collection = new SecurityCollection();
        collection.addPattern("/protected/*");
        constraint.addCollection(collection);
        context.addConstraint(constraint);
        context.addSecurityRole("user");
        // added after the manager: msm's valve must see the request first
        context.getPipeline().addValve(form ? new FormAuthenticator() : new BasicAuthenticator());
        tomcat.addUser("alice", "secret");
        tomcat.addRole("alice", "user");
    }

    private void startTomcat() {
        try {
            tomcat.start();
        } catch (LifecycleException e) {
            throw new IllegalStateException("Tomcat " + route + " did not start", e);
        }
        if (context.getState() != LifecycleState.STARTED) {
            throw new IllegalStateException("context on " + route + " is " + context.getState());
        }
    }

    String route() {
        return route;
    }

    int port() {
        return tomcat.getConnector().getLocalPort();
    }

    /** The URL of {@code path} in the test webapp. */
    String url(String path) {
        return "http://127.0.0.1:" + port() + encodedPath + path;
    }

    MemcachedSessionManager manager() {
        return manager;
    }

    /**
     * Deploys the test webapp again, at the same path, as {@code version} (Tomcat's parallel deployment, the context
     * named {@code path##version}), with an msm manager of the same attributes, while this Tomcat runs. Its pages say
     * {@code route=<route>##<version>}.
     */
    MemcachedSessionManager deployVersion(String version) {
        org.apache.catalina.core.StandardContext added = new org.apache.catalina.core.StandardContext();
        added.setName(contextPath + "##" + version);
        added.setPath(contextPath);
        added.setWebappVersion(version);
        added.setDocBase(base.toString());
        added.addLifecycleListener(new Tomcat.FixContextListener());
        MemcachedSessionManager m = new MemcachedSessionManager();
        String transcoder = System.getProperty(TRANSCODER_PROPERTY);
        if (transcoder != null && !transcoder.isBlank() && !attributes.containsKey("transcoderFactoryClass")) {
            setAttribute(m, "transcoderFactoryClass", transcoder);
        }
        attributes.forEach((k, v) -> setAttribute(m, k, v));
        added.setManager(m);
        TestApp.install(added, route + "##" + version);
        tomcat.getHost().addChild(added); // started at once: the host runs
        if (added.getState() != LifecycleState.STARTED) {
            throw new IllegalStateException("version " + version + " on " + route + " is " + added.getState());
        }
        return m;
    }

    Context context() {
        return context;
    }

    /** Graceful stop, as an operator's shutdown. */
    void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        try {
            tomcat.stop();
            tomcat.destroy();
        } catch (LifecycleException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        stop();
    }
}
