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
 * the lock. Requests that go asynchronous do this when their async cycle completes, or at the end of the pass an
 * {@code AsyncContext.dispatch()} runs (it continues the request: same sessions, same lock). In non-sticky and
 * synchronous mode the webapp gets the response wrapped in a {@link ResponseGuard}, which stores the sessions first if
 * the application sends the response before its end.
 */
final class SessionTrackingValve extends ValveBase {
    /** The request note holding the {@link AsyncEnd} of a request that went asynchronous. */
    private static final String ASYNC_NOTE = "io.msm.tomcat.AsyncEnd";

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
        AsyncEnd started = asyncStartedHere(request);
        if (started != null) {
            continueAsync(started, request, response);
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
                AsyncEnd end = new AsyncEnd(manager, rc);
                request.getAsyncContext().addListener(end);
                request.setNote(ASYNC_NOTE, end); // Tomcat clears a request's notes when it recycles it
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

    /** The end of a request that went asynchronous on a pass of this valve and is not over, or {@code null}. */
    private AsyncEnd asyncStartedHere(Request request) {
        Object note = request.getNote(ASYNC_NOTE);
        if (!(note instanceof AsyncEnd)) {
            return null;
        }
        AsyncEnd end = (AsyncEnd) note;
        return end.manager == manager && !end.isDone() ? end : null;
    }

    /**
     * A pass through the pipeline for a request whose first pass went asynchronous ({@code AsyncContext.dispatch()}
     * runs the whole pipeline again for the same request): it continues that request. No second cookie choice, lock
     * or relocation (the first pass holds the session's lock; a second {@code lock} would wait for itself). The
     * sessions it uses are the request's; unless it goes asynchronous again, the request ends here, before Tomcat
     * finishes the response, and the end its async cycle would run is skipped.
     */
    private void continueAsync(AsyncEnd started, Request request, Response response)
            throws IOException, ServletException {
        RequestContext outer = RequestContext.current();
        RequestContext.restore(started.rc);
        try {
            getNext().invoke(request, response);
        } finally {
            try {
                if (!request.isAsyncStarted()) {
                    started.end();
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

    /** Ends an asynchronous request when its async cycle completes: stores its sessions, releases its lock. */
    private static final class AsyncEnd implements AsyncListener {
        private final MemcachedSessionManager manager;
        private final RequestContext rc;
        private boolean done;

        AsyncEnd(MemcachedSessionManager manager, RequestContext rc) {
            this.manager = manager;
            this.rc = rc;
        }

        synchronized boolean isDone() {
            return done;
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
