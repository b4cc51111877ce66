package io.msm.it;

// snippet:begin (README.md "Embedded Tomcat" shows this part, for Tomcat 9 and, with jakarta.servlet, 10.1 and 11)
import io.msm.tomcat.MemcachedSessionManager;
import java.io.IOException;
import java.nio.file.Files;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import javax.servlet.http.HttpSession;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;

public class EmbeddedTomcatExample {

    /** Starts a Tomcat whose sessions live in memcached, e.g. start("10.0.0.5", 8080, "tc1", "n1:mc1:11211,n2:mc2:11211"). */
    public static Tomcat start(String address, int port, String jvmRoute, String memcachedNodes) throws Exception {
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(Files.createTempDirectory("tomcat-" + jvmRoute).toString());
        tomcat.setPort(port);
        tomcat.getConnector().setProperty("address", address);
        tomcat.getEngine().setJvmRoute(jvmRoute); // the balancer's route to this Tomcat (sticky sessions)

        Context context = tomcat.addContext("", null);
        MemcachedSessionManager manager = new MemcachedSessionManager();
        manager.setMemcachedNodes(memcachedNodes); // every attribute of <Manager> has a setter of the same name
        context.setManager(manager);

        Tomcat.addServlet(context, "counter", new CounterServlet()).addMapping("/counter");
        tomcat.start();
        return tomcat;
    }

    /** Counts the requests of a session. */
    public static class CounterServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            HttpSession session = request.getSession();
            Integer count = (Integer) session.getAttribute("count");
            count = count == null ? 1 : count + 1;
            session.setAttribute("count", count);
            response.getWriter().print("count=" + count);
        }
    }
}
// snippet:end
