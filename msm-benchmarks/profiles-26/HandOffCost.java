import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * What a thread hand-off and a memcached set cost in process CPU on this machine (BENCHMARKS.md, "Tried next").
 * Not part of the build. Run: {@code memcached -u nobody -l 127.0.0.1 -p 21299 & java HandOffCost.java 21299}.
 * Each line is one round of 4,000 operations of each kind; the first rounds warm up.
 */
public class HandOffCost {
    private static long cpu() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    public static void main(String[] args) throws Exception {
        int n = 4000;
        ThreadPoolExecutor pool = new ThreadPoolExecutor(2, 2, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>());
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        try (Socket socket = new Socket("127.0.0.1", Integer.parseInt(args[0]))) {
            socket.setTcpNoDelay(true);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            byte[] set = "set k 0 0 2048\r\n".getBytes(StandardCharsets.US_ASCII);
            byte[] value = new byte[2048];
            byte[] crlf = "\r\n".getBytes(StandardCharsets.US_ASCII);
            byte[] answer = new byte[64];
            for (int round = 0; round < 3; round++) {
                long c0 = cpu();
                for (int i = 0; i < n; i++) {
                    CountDownLatch done = new CountDownLatch(1);
                    pool.execute(done::countDown);
                    done.await();
                    Thread.sleep(0, 250_000);
                }
                long c1 = cpu();
                for (int i = 0; i < n; i++) {
                    Thread.sleep(0, 250_000);
                }
                long c2 = cpu();
                for (int i = 0; i < n; i++) {
                    CountDownLatch done = new CountDownLatch(1);
                    timer.schedule(() -> pool.execute(done::countDown), 200, TimeUnit.MICROSECONDS);
                    done.await();
                }
                long c3 = cpu();
                for (int i = 0; i < n; i++) {
                    out.write(set);
                    out.write(value);
                    out.write(crlf);
                    out.flush();
                    if (in.read(answer) <= 0) {
                        throw new IllegalStateException("memcached closed the connection");
                    }
                    Thread.sleep(0, 250_000);
                }
                long c4 = cpu();
                System.out.printf("µs of process CPU per operation: sleep + pool hand-off %.1f, sleep alone %.1f,"
                        + " scheduled task handing to the pool %.1f, set + sleep %.1f%n", (c1 - c0) / 1e3 / n,
                        (c2 - c1) / 1e3 / n, (c3 - c2) / 1e3 / n, (c4 - c3) / 1e3 / n);
            }
        } finally {
            pool.shutdownNow();
            timer.shutdownNow();
        }
    }
}
