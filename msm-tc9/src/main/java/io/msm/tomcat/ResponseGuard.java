package io.msm.tomcat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.Charset;
import java.util.Objects;
import javax.servlet.ServletOutputStream;
import javax.servlet.WriteListener;
import javax.servlet.http.HttpServletResponseWrapper;
import org.apache.catalina.connector.Response;

/**
 * The response as msm's valve hands it to the webapp in non-sticky and synchronous mode: before any point at which
 * the whole response can reach the client while the request still runs, the request's sessions are stored
 * ({@link MemcachedSessionManager#responseLeaving(RequestContext)}), so the client cannot send its next request,
 * maybe to another Tomcat, before memcached holds the change. Those points: the application flushes or closes the
 * response ({@code flushBuffer()}, {@code flush()}/{@code close()} of its stream or writer), or writes the last byte
 * of a declared length (Tomcat 11 then sends it at once). Without them, the end of the response (the rest of its
 * bytes, the last chunk) leaves only when Tomcat finishes it, after the request's end stored the session.
 */
final class ResponseGuard extends HttpServletResponseWrapper {
    /**
     * The width of the last charset a writer was made for: responses mostly use one, and an encoder made per
     * response to ask was most of the bytes this wrapper allocated.
     */
    private static volatile CharsetWidth lastWidth = new CharsetWidth("", 4);

    private final RequestContext rc;
    private final org.apache.coyote.Response coyote;
    private ServletOutputStream stream;
    private PrintWriter writer;
    /** Bytes the application wrote, at most (the writer counts the most bytes its characters can encode to). */
    private long written;

    /** Wraps what {@code response} hands the webapp now. */
    ResponseGuard(Response response, RequestContext rc) {
        super(response.getResponse());
        this.coyote = response.getCoyoteResponse();
        this.rc = rc;
    }

    private void leaving() {
        rc.manager.requests.responseLeaving(rc);
    }

    /** Before a write of at most {@code bytes}: the sessions are stored if it may complete a declared length. */
    private void writing(long bytes) {
        written += bytes;
        long declared = coyote.getContentLengthLong();
        if (declared >= 0 && written >= declared) {
            leaving();
        }
    }

    @Override
    public void flushBuffer() throws IOException {
        leaving();
        super.flushBuffer();
    }

    @Override
    public void resetBuffer() {
        super.resetBuffer();
        written = 0;
    }

    @Override
    public void reset() {
        super.reset();
        written = 0;
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
        PrintWriter tomcatWriter = super.getWriter(); // throws if the stream is in use; fixes the encoding
        if (writer == null) {
            GuardedWriter guarded = new GuardedWriter(tomcatWriter, maxBytesPerChar(getCharacterEncoding()));
            writer = new PrintWriter(guarded, false) {
                @Override
                public boolean checkError() {
                    return super.checkError() || tomcatWriter.checkError();
                }
            };
        }
        return writer;
    }

    /** The most bytes a character of {@code charset} encodes to; 4 for a name Java does not know. */
    static int maxBytesPerChar(String charset) {
        CharsetWidth w = lastWidth;
        if (!Objects.equals(w.charset, charset)) {
            float max;
            try {
                max = Charset.forName(charset).newEncoder().maxBytesPerChar();
            } catch (RuntimeException e) { // no name, a name Java does not know, or a charset it cannot encode to
                max = 4;
            }
            w = new CharsetWidth(charset, (int) Math.ceil(max));
            lastWidth = w;
        }
        return w.maxBytesPerChar;
    }

    private static final class CharsetWidth {
        final String charset;
        final int maxBytesPerChar;

        CharsetWidth(String charset, int maxBytesPerChar) {
            this.charset = charset;
            this.maxBytesPerChar = maxBytesPerChar;
        }
    }

    private final class GuardedStream extends ServletOutputStream {
        private final ServletOutputStream out;

        GuardedStream(ServletOutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            writing(1);
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            writing(len);
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

    /** Under the writer the webapp gets: every character it prints passes here on its way to Tomcat's writer. */
    private final class GuardedWriter extends Writer {
        private final PrintWriter out;
        private final int maxBytesPerChar;

        GuardedWriter(PrintWriter out, int maxBytesPerChar) {
            this.out = out;
            this.maxBytesPerChar = maxBytesPerChar;
        }

        @Override
        public void write(int c) {
            writing(maxBytesPerChar);
            out.write(c);
        }

        @Override
        public void write(char[] buf, int off, int len) {
            writing((long) len * maxBytesPerChar);
            out.write(buf, off, len);
        }

        @Override
        public void write(String s, int off, int len) {
            writing((long) len * maxBytesPerChar);
            out.write(s, off, len);
        }

        @Override
        public void flush() {
            leaving();
            out.flush();
        }

        @Override
        public void close() {
            leaving();
            out.close();
        }
    }
}
