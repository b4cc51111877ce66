package io.msm.benchmarks.model;

import java.io.Serializable;
import java.util.Date;
import java.util.List;
import java.util.Objects;

/** The logged-in user a session holds. */
public class User implements Serializable {
    private static final long serialVersionUID = 1L;
    long id;
    String username;
    String email;
    String displayName;
    List<String> roles;
    Date lastLogin;
    Address address;
    boolean premium;

    public User() {
    }

    public User(long id, String username, String email, String displayName, List<String> roles, Date lastLogin,
            Address address, boolean premium) {
        this.id = id;
        this.username = username;
        this.email = email;
        this.displayName = displayName;
        this.roles = roles;
        this.lastLogin = lastLogin;
        this.address = address;
        this.premium = premium;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof User)) {
            return false;
        }
        User u = (User) o;
        return id == u.id && premium == u.premium && Objects.equals(username, u.username)
                && Objects.equals(email, u.email) && Objects.equals(displayName, u.displayName)
                && Objects.equals(roles, u.roles) && Objects.equals(lastLogin, u.lastLogin)
                && Objects.equals(address, u.address);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, username);
    }
}
