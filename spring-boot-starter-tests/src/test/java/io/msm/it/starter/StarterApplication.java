package io.msm.it.starter;

import io.msm.spring.boot.MsmManagerCustomizer;
import jakarta.servlet.http.HttpSession;
import java.security.Principal;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The sample application of msm's Spring Boot starters, the same source for Spring Boot 3.5 and 4: msm comes in by
 * the starter dependency and {@code msm.*} properties alone. Spring Security's default form login (CSRF, session
 * fixation protection, logout) guards {@code /page}; {@code /count} and the actuator are open.
 */
@SpringBootApplication
@RestController
public class StarterApplication {

    @Bean
    SecurityFilterChain security(HttpSecurity http) throws Exception {
        return http.authorizeHttpRequests(r -> r.requestMatchers("/count", "/invalidate", "/actuator/**").permitAll()
                        .anyRequest().authenticated())
                .formLogin(Customizer.withDefaults())
                .logout(Customizer.withDefaults())
                .build();
    }

    @Bean
    UserDetailsService users() {
        return new InMemoryUserDetailsManager(User.withUsername("alice").password("{noop}secret").roles("USER").build());
    }

    /** An application's own change to the manager, after the properties (test.operation-timeout set). */
    // snippet:begin (README, Spring Boot)
    @Bean
    @ConditionalOnProperty("test.operation-timeout")
    MsmManagerCustomizer operationTimeout(org.springframework.core.env.Environment env) {
        return manager -> manager.setOperationTimeout(env.getProperty("test.operation-timeout"));
    }
    // snippet:end

    /** How many times this session saw the page, anonymous. */
    @GetMapping("/count")
    public String count(HttpSession session) {
        return "count=" + increment(session);
    }

    @GetMapping("/invalidate")
    public String invalidate(HttpSession session) {
        session.invalidate();
        return "invalidated";
    }

    /** The protected page: who is logged in, and how many times this session saw it. */
    @GetMapping("/page")
    public String page(Principal user, HttpSession session) {
        return "user=" + user.getName() + " count=" + increment(session);
    }

    private static int increment(HttpSession session) {
        Integer count = (Integer) session.getAttribute("count");
        count = count == null ? 1 : count + 1;
        session.setAttribute("count", count);
        return count;
    }
}
