package io.msm.tomcat;

import java.io.IOException;
import java.io.PrintWriter;
import javax.servlet.ServletOutputStream;
import javax.servlet.WriteListener;
import javax.servlet.http.HttpServletResponse;
import javax.servlet.http.HttpServletResponseWrapper;

/**
 * The response as msm's valve hands it to the webapp in non-sticky and synchronous mode: before the application
 * flushes or closes it ({@code flushBuffer()}, {@code flush()}/{@code close()} of its stream or writer), the request's
 * sessions are stored ({@link MemcachedSessionManager#responseLeaving(RequestContext)}). A response of declared
 * length is complete for the client once flushed, and the client may then send its next request, maybe to another
 * Tomcat, while the servlet still runs; memcached must already hold the change. Without a flush or close, the end of
 * the response (the rest of its bytes, the last chunk) leaves only when Tomcat finishes it, after the request's end
 * stored the session.
 */
final class ResponseGuard extends HttpServletResponseWrapper {
    private final RequestContext rc;
    private ServletOutputStream stream;
    private PrintWriter writer;

    ResponseGuard(HttpServletResponse response, RequestContext rc) {
        super(response);
        this.rc = rc;
    }

    private void leaving() {
        if (!rc.responseLeft) {
            rc.manager.responseLeaving(rc);
        }
    }

    @Override
    public void flushBuffer() throws IOException {
        leaving();
        super.flushBuffer();
    }

    @Override
    public ServletOutputStream getOutputStream() throws IOException {
        ServletOutputStream out = super.getOutputStream(); // throws if the writer is in use
        if (stream == null) {
            stream = new GuardedStream(out);
        }
        return stream;
    }

    @Override
    public PrintWriter getWriter() throws IOException {
        PrintWriter out = super.getWriter(); // throws if the stream is in use
        if (writer == null) {
            writer = new GuardedWriter(out);
        }
        return writer;
    }

    private final class GuardedStream extends ServletOutputStream {
        private final ServletOutputStream out;

        GuardedStream(ServletOutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            leaving();
            out.flush();
        }

        @Override
        public void close() throws IOException {
            leaving();
            out.close();
        }

        @Override
        public boolean isReady() {
            return out.isReady();
        }

        @Override
        public void setWriteListener(WriteListener listener) {
            out.setWriteListener(listener);
        }
    }

    /**
     * Writes go straight to Tomcat's writer; {@link PrintWriter#checkError()} flushes through {@link #flush()} and
     * then asks Tomcat's writer.
     */
    private final class GuardedWriter extends PrintWriter {
        GuardedWriter(PrintWriter out) {
            super(out, false);
        }

        @Override
        public void flush() {
            leaving();
            super.flush();
        }

        @Override
        public void close() {
            leaving();
            super.close();
        }
    }
}
