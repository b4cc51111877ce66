package io.msm.it.springboot;

import jakarta.servlet.http.HttpSession;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.security.servlet.SecurityAutoConfiguration;
import org.springframework.boot.autoconfigure.security.servlet.UserDetailsServiceAutoConfiguration;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** A Spring Boot web application with a session; msm comes in through {@link MemcachedSessionsConfiguration}. */
// no Spring Security here (it is on the module's classpath for io.msm.it.springsecurity.FormLoginApplication)
@SpringBootApplication(exclude = {SecurityAutoConfiguration.class, UserDetailsServiceAutoConfiguration.class})
@RestController
public class CounterApplication {

    /** Counts the requests of a session. */
    @GetMapping("/counter")
    public String counter(HttpSession session) {
        Integer count = (Integer) session.getAttribute("count");
        count = count == null ? 1 : count + 1;
        session.setAttribute("count", count);
        return "count=" + count;
    }
}
