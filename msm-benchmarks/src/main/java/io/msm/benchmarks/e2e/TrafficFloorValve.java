package io.msm.benchmarks.e2e;

import io.msm.benchmarks.Codec;
import io.msm.benchmarks.model.Sessions;
import io.msm.config.MsmConfig;
import io.msm.store.MemcachedSessionStore;
import io.msm.store.SessionStore;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.servlet.ServletException;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

/**
 * The memcached traffic of a non-sticky request and nothing else, on top of Tomcat's StandardManager: a request with a
 * session cookie first reads the session's value from memcached ({@code mg}, value returned, expiry refreshed), and a
 * changing one then writes it to the primary and the secondary node ({@code set} of each, both sent before either
 * answer is read), through msm's own store and connections. The value is a fixed byte array of the size msm's Kryo
 * transcoder stores for the workload's session. No serialization, no session handling: the cost of msm's call budget
 * (DESIGN §5: 1 call to read, 3 to change) on this machine, which no non-sticky manager that keeps two copies with
 * that budget can go below. The row "floor with Java's size" sends values of the size msm's Java transcoder gives the
 * session in one stream instead: a little less than msm stores with it (two chunks, each a stream of its own).
 */
final class TrafficFloorValve extends ValveBase {
    private static final int TTL = 1800;
    private final String nodes;
    private final Map<String, byte[]> valueByPath = new LinkedHashMap<>();
    private SessionStore store;

    /** @param codec whose stored size the values have: {@code msm-kryo} (the floor) or {@code msm-java} */
    TrafficFloorValve(String nodes, String codec) {
        super(true);
        this.nodes = nodes;
        Codec sized = Codec.create(codec);
        byte[] typical = sized.serialize(Sessions.build("typical"));
        valueByPath.put("/change", typical);
        valueByPath.put("/read", typical);
        valueByPath.put("/large", sized.serialize(Sessions.build("large")));
    }

    /** The codec a row's {@code trafficFloor} attribute names: {@code true} is the floor's, Kryo. */
    static String codec(String attribute) {
        switch (attribute) {
            case "true": return "msm-kryo";
            case "java": return "msm-java";
            default: throw new IllegalArgumentException(EndToEndBenchmark.FLOOR_ATTRIBUTE + "=\"" + attribute
                    + "\": true (Kryo's size) or java");
        }
    }

    @Override
    protected void startInternal() throws LifecycleException {
        try {
            MsmConfig config = MsmConfig.builder().set(MsmConfig.MEMCACHED_NODES, nodes)
                    .build(TrafficFloorValve.class.getClassLoader());
            store = MemcachedSessionStore.open(config, MemcachedSessionStore.ConnectionListener.NONE);
        } catch (IOException e) {
            throw new LifecycleException(e);
        }
        super.startInternal();
    }

    @Override
    protected void stopInternal() throws LifecycleException {
        super.stopInternal();
        store.close();
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        String id = request.getRequestedSessionId();
        byte[] value = valueByPath.get(request.getServletPath());
        if (id == null || value == null) {
            getNext().invoke(request, response); // the session's first request: nothing in memcached yet
            return;
        }
        boolean held = store.getWithTtl("n1", id, TTL, 1000).value() != null;
        getNext().invoke(request, response);
        if (!request.getServletPath().equals("/read")) {
            store.setWithSecondary("n1", id, TTL, value, 1000, "n2", "bak:" + id, TTL, 1000);
        } else if (!held) {
            store.set("n1", id, TTL, value, 1000); // a read-only session's value, stored once
        }
    }
}
