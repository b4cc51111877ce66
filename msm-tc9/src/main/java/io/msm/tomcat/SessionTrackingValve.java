package io.msm.tomcat;

import java.io.IOException;
import javax.servlet.AsyncEvent;
import javax.servlet.AsyncListener;
import javax.servlet.ServletException;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

/**
 * msm's valve, first in the context's pipeline: marks the request as msm's (or as ignored by
 * {@code requestUriIgnorePattern}), chooses among several session cookies, takes the session's lock (non-sticky
 * locking), moves a session off an unavailable node before the webapp runs, and ends the request's sessions before
 * the response is sent (so a synchronous or non-sticky write is done when the client sees the answer), then releases
 * the lock. Requests that go asynchronous do this when their async cycle completes. In non-sticky and synchronous
 * mode the webapp gets the response wrapped in a {@link ResponseGuard}, which stores the sessions first if the
 * application sends the response before its end.
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
        RequestContext rc = RequestContext.enter(manager, request, manager.isIgnored(request));
        boolean async = false;
        javax.servlet.http.HttpServletResponse unguarded = null;
        if (!rc.ignored && manager.requests.guardsResponse()) {
            unguarded = response.getResponse();
            response.setResponse(new ResponseGuard(response, rc));
        }
        try {
            if (!rc.ignored) {
                manager.requests.chooseRequestedSession(rc);
                if (!manager.requests.lockIfNeeded(rc)) {
                    response.setHeader("Retry-After", "1");
                    response.sendError(503); // lockFailure="fail": better no answer than a lost update
                    return;
                }
                manager.requests.requestStarting(rc);
            }
            getNext().invoke(request, response);
            async = request.isAsyncStarted();
            if (async) {
                request.getAsyncContext().addListener(new AsyncEnd(manager, rc));
            }
        } finally {
            try {
                if (!async) {
                    manager.requests.requestFinished(rc);
                }
            } finally {
                if (!async) {
                    manager.requests.unlock(rc);
                }
                if (unguarded != null) {
                    response.setResponse(unguarded); // Tomcat's error pages and the response's end see its own again
                }
                if (outer != null) {
                    RequestContext.restore(outer);
                } else {
                    RequestContext.leave();
                }
            }
        }
    }

    /** Ends an asynchronous request when its async cycle completes: stores its sessions, releases its lock. */
    private static final class AsyncEnd implements AsyncListener {
        private final MemcachedSessionManager manager;
        private final RequestContext rc;
        private boolean done;

        AsyncEnd(MemcachedSessionManager manager, RequestContext rc) {
            this.manager = manager;
            this.rc = rc;
        }

        private synchronized void end() {
            if (done) {
                return;
            }
            done = true;
            try {
                manager.requests.requestFinished(rc);
            } finally {
                manager.requests.unlock(rc);
            }
        }

        @Override
        public void onComplete(AsyncEvent event) {
            end();
        }

        @Override
        public void onError(AsyncEvent event) {
            end();
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            // Tomcat completes a timed-out cycle next: onComplete ends it
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            event.getAsyncContext().addListener(this); // a new async cycle: stay registered
        }
    }
}
