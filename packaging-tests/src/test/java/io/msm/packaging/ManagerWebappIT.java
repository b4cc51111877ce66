package io.msm.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.msm.test.memcached.MemcachedExtension;
import io.msm.test.memcached.MemcachedServer;
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Tomcat's manager webapp on msm sessions, in a real distribution with msm in conf/context.xml (the README's), both
 * modes: the text interface lists the sessions ({@code /manager/text/sessions}), including non-sticky sessions no
 * request holds and sticky sessions a reload left in memcached; the HTML manager invalidates one by id (with its
 * CSRF nonce); {@code /manager/text/expire?idle=N} expires those idle N minutes or more. An expired or invalidated
 * session is gone from memcached: its user's next request starts a new one.
 */
class ManagerWebappIT {
    @RegisterExtension
    static final MemcachedExtension MEMCACHED = MemcachedExtension.servers(2);

    private static final Path WORK = Paths.get(System.getProperty("msm.packaging.work"));
    private static final Path DOWNLOADS = Paths.get(System.getProperty("msm.packaging.downloads"));
    private static final String USERS = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<tomcat-users>\n"
            + "  <role rolename=\"manager-script\"/>\n  <role rolename=\"manager-gui\"/>\n"
            + "  <user username=\"script\" password=\"s3cret\" roles=\"manager-script\"/>\n"
            + "  <user username=\"gui\" password=\"s3cret\" roles=\"manager-gui\"/>\n</tomcat-users>\n";
    private static final Pattern LISTED = Pattern.compile("Inactive for \\[[^\\]]*\\] minutes: \\[(\\d+)\\] sessions$",
            Pattern.MULTILINE);
    private static final Pattern EXPIRED = Pattern.compile("\\[(\\d+)\\] sessions were expired");
    private static final Pattern NONCE = Pattern.compile("org\\.apache\\.catalina\\.filters\\.CSRF_NONCE=([0-9A-Fa-f]+)");

    private final List<AutoCloseable> running = new ArrayList<>();

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (String line : List.of("9.0", "10.1", "11.0")) {
            cases.add(Arguments.of(line, "sticky"));
            cases.add(Arguments.of(line, "non-sticky"));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "Tomcat {0}, {1}")
    @MethodSource("cases")
    void managerWebappListsExpiresAndInvalidatesMsmSessions(String line, String mode) throws Exception {
        TomcatInstance tc = start(line, mode);
        PackagingIT.Client alice = new PackagingIT.Client();
        PackagingIT.Client bob = new PackagingIT.Client();
        alice.get(tc, 1, "tc1");
        String aliceId = alice.get(tc, 2, "tc1").session;
        String bobId = bob.get(tc, 1, "tc1").session;
        awaitStored(aliceId);
        awaitStored(bobId);
        assertEquals(2, listed(tc), "both sessions listed");

        if (mode.equals("sticky")) {
            assertTrue(text(tc, "/manager/text/reload?path=/").startsWith("OK - Reloaded"));
            assertEquals(2, listed(tc), "still listed after a reload, before their users return");
        }

        // the HTML manager's "Invalidate selected sessions", by id
        String page = invalidate(tc, aliceId);
        assertTrue(page.contains("1 sessions invalidated."), page);
        assertEnded(aliceId, mode, "invalidated");
        assertEquals(1, alice.get(tc, 1, "tc1").count, "alice starts a new session");

        String notIdle = text(tc, "/manager/text/expire?path=/&idle=1"); // none has been idle for a minute
        Matcher none = EXPIRED.matcher(notIdle);
        assertTrue(!none.find() || none.group(1).equals("0"), notIdle);
        String expired = text(tc, "/manager/text/expire?path=/&idle=0");
        Matcher m = EXPIRED.matcher(expired);
        assertTrue(m.find(), expired);
        assertEquals(2, Integer.parseInt(m.group(1)), "bob's and alice's new session: " + expired);
        assertEnded(bobId, mode, "expired");
        assertEquals(1, bob.get(tc, 1, "tc1").count, "bob starts a new session");
    }

    private TomcatInstance start(String line, String mode) throws Exception {
        Path home = PackagingIT.home(line);
        Path bundle = DOWNLOADS.resolve(line.equals("9.0") ? "msm-bundle-tc9.jar" : "msm-bundle-tc10.jar");
        Path webapp = Paths.get(PackagingIT.class.getResource("/webapp/counter.jsp").toURI()).getParent();
        String contextXml = PackagingIT.readmeContextXml(MEMCACHED.nodesAttribute("n1", "n2"));
        if (mode.equals("non-sticky")) {
            contextXml = contextXml.replace("memcachedNodes=", "sticky=\"false\" memcachedNodes=");
        }
        TomcatInstance tc = TomcatInstance.create(home, WORK.resolve("manager-" + line + "-" + mode), "tc1", bundle,
                webapp, contextXml).withManagerWebapp(USERS);
        running.add(tc.start());
        tc.awaitReady(Duration.ofSeconds(90));
        return tc;
    }

    @AfterEach
    void stopAll() throws Exception {
        for (AutoCloseable r : running) {
            r.close();
        }
        running.clear();
    }

    private static byte[] stored(String sessionId) {
        MemcachedServer server = MEMCACHED.server(PackagingIT.node(sessionId).equals("n1") ? 0 : 1);
        return server.get(sessionId);
    }

    /**
     * Sticky mode deletes an ended session's key (after the response: on a backup thread); non-sticky mode leaves a
     * tombstone ("MSMX") there before the response, so a request of the session still running on another Tomcat cannot
     * store it again. Either way no copy of the session is left.
     */
    private static void assertEnded(String sessionId, String mode, String how) throws InterruptedException {
        byte[] value = stored(sessionId);
        if (mode.equals("sticky")) {
            // sticky, with the default asynchronous backup, the delete runs on a backup thread after the response
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (value != null && System.nanoTime() < deadline) {
                Thread.sleep(10); // poll interval of a wait bounded by its deadline
                value = stored(sessionId);
            }
            assertNull(value, how + ": gone from memcached within 5 s");
        } else {
            assertEquals("MSMX", value == null ? null : new String(value, StandardCharsets.ISO_8859_1),
                    how + ": a tombstone in memcached");
        }
    }

    /** Waits (at most 5 s) until memcached holds the session (sticky mode backs it up after the response). */
    private static void awaitStored(String sessionId) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (stored(sessionId) == null) {
            assertTrue(System.nanoTime() < deadline, "never stored");
            Thread.sleep(10); // poll interval of a wait bounded by its deadline
        }
    }

    /** How many sessions {@code /manager/text/sessions} lists. */
    private static int listed(TomcatInstance tc) throws Exception {
        String body = text(tc, "/manager/text/sessions?path=/");
        assertTrue(body.startsWith("OK - Session information"), body);
        int n = 0;
        Matcher m = LISTED.matcher(body);
        while (m.find()) {
            n += Integer.parseInt(m.group(1));
        }
        return n;
    }

    private static String text(TomcatInstance tc, String path) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(tc.url(path)))
                .header("Authorization", basic("script")).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), () -> path + ": " + r.body() + "\n" + tc.console());
        System.out.printf("ManagerWebappIT: GET %s ->%n%s%n", path, r.body().trim());
        return r.body();
    }

    private static final HttpClient GUI = HttpClient.newBuilder()
            .cookieHandler(new CookieManager(null, CookiePolicy.ACCEPT_ALL)).build();

    /**
     * The HTML manager's "Invalidate selected sessions" for {@code id}: the form's post to the sessions page, with a
     * CSRF nonce from the manager's entry page.
     */
    private static String invalidate(TomcatInstance tc, String id) throws Exception {
        Matcher m = NONCE.matcher(html(tc, "/manager/html/list", null));
        assertTrue(m.find(), "no CSRF nonce on the manager's page");
        return html(tc, "/manager/html/sessions?path=/&org.apache.catalina.filters.CSRF_NONCE=" + m.group(1),
                "action=invalidateSessions&sessionIds=" + URLEncoder.encode(id, StandardCharsets.UTF_8));
    }

    /** A page of the HTML manager as user gui: a GET, or a form POST of {@code form}. */
    private static String html(TomcatInstance tc, String path, String form) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(tc.url(path)))
                .header("Authorization", basic("gui")).timeout(Duration.ofSeconds(30));
        if (form != null) {
            b.header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(form));
        }
        HttpResponse<String> r = GUI.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), () -> path + ": " + r.body() + "\n" + tc.console());
        return r.body();
    }

    private static String basic(String user) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":s3cret").getBytes(StandardCharsets.UTF_8));
    }
}
