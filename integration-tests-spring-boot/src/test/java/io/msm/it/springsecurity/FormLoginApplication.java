package io.msm.it.springsecurity;

import jakarta.servlet.http.HttpSession;
import java.security.Principal;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.springframework.boot.autoconfigure.SpringBootApplication;
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
 * An ordinary Spring Boot application with Spring Security's default form login: every page needs a login, Spring
 * Security's own login page ({@code GET /login}, a CSRF token in the form), session-fixation protection (the
 * default: the session gets a new id at login), logout by {@code POST /logout} with the CSRF token (Spring's own
 * confirmation page at {@code GET /logout} carries it). msm comes in through {@link MemcachedSessions}.
 */
@SpringBootApplication
@RestController
public class FormLoginApplication {
    /** How long {@code /slow} waits for the test at most. */
    static final long SLOW_MAX_SECONDS = 20;

    /** Lets {@code /slow} run until the test releases it (one slow request per application). */
    final CountDownLatch slowEntered = new CountDownLatch(1);
    final CountDownLatch slowReleased = new CountDownLatch(1);

    @Bean
    SecurityFilterChain security(HttpSecurity http) throws Exception {
        return http.authorizeHttpRequests(requests -> requests.anyRequest().authenticated())
                .formLogin(Customizer.withDefaults())
                .logout(Customizer.withDefaults())
                .build();
    }

    @Bean
    UserDetailsService users() {
        return new InMemoryUserDetailsManager(User.withUsername("alice").password("{noop}secret").roles("USER").build());
    }

    /** The protected page: who is logged in, and how many times this session saw the page. */
    @GetMapping("/page")
    public String page(Principal user, HttpSession session) {
        return "user=" + user.getName() + " count=" + increment(session);
    }

    /**
     * A protected page that takes a while (a report, an upload): it runs with the session it was given at its start
     * until the test releases it, then changes the session as {@code /page} does.
     */
    @GetMapping("/slow")
    public String slow(Principal user, HttpSession session) throws InterruptedException {
        slowEntered.countDown();
        boolean released = slowReleased.await(SLOW_MAX_SECONDS, TimeUnit.SECONDS);
        return "user=" + user.getName() + " count=" + increment(session) + " released=" + released;
    }

    private static int increment(HttpSession session) {
        Integer count = (Integer) session.getAttribute("count");
        count = count == null ? 1 : count + 1;
        session.setAttribute("count", count);
        return count;
    }
}
