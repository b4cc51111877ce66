package io.msm.it.springboot;

// snippet:begin (README.md "Spring Boot 3")
import io.msm.tomcat.MemcachedSessionManager;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.web.embedded.tomcat.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration
public class MemcachedSessionsConfiguration {

    /** msm as the session manager of Spring Boot's embedded Tomcat; msm.memcached-nodes: "n1:mc1:11211,n2:mc2:11211". */
    @Bean
    public WebServerFactoryCustomizer<TomcatServletWebServerFactory> memcachedSessions(
            @Value("${msm.memcached-nodes}") String memcachedNodes) {
        return factory -> factory.addContextCustomizers(context -> {
            MemcachedSessionManager manager = new MemcachedSessionManager();
            manager.setMemcachedNodes(memcachedNodes);
            manager.setSticky("false"); // any instance may serve any request (a round-robin balancer)
            context.setManager(manager);
        });
    }
}
// snippet:end
