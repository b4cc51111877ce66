package io.msm.tomcat;

import java.io.IOException;
import javax.servlet.ServletException;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

/**
 * msm's valve, first in the context's pipeline: marks the request as msm's (or as ignored by
 * {@code requestUriIgnorePattern}), moves a session off an unavailable node before the webapp runs, and ends the
 * request's sessions before the response is sent (so a synchronous backup is done when the client sees the answer).
 * Requests that go asynchronous end their sessions when Tomcat recycles them.
 */
final class SessionTrackingValve extends ValveBase {
    private final MemcachedSessionManager manager;

    SessionTrackingValve(MemcachedSessionManager manager) {
        super(true);
        this.manager = manager;
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        if (!manager.isActiveMsm()) {
            getNext().invoke(request, response);
            return;
        }
        RequestContext outer = RequestContext.current();
        RequestContext rc = RequestContext.enter(manager, request, manager.isIgnored(request.getRequestURI()));
        try {
            if (!rc.ignored) {
                manager.requestStarting(rc);
            }
            getNext().invoke(request, response);
        } finally {
            try {
                if (!request.isAsyncStarted()) {
                    manager.requestFinished(rc);
                }
            } finally {
                if (outer != null) {
                    RequestContext.restore(outer);
                } else {
                    RequestContext.leave();
                }
            }
        }
    }
}
