package io.msm.it;

import java.io.Serializable;
import java.security.Principal;
import java.util.List;
import org.apache.catalina.realm.GenericPrincipal;
import org.apache.catalina.realm.RealmBase;

/**
 * A realm whose principal carries an object of the application's own ({@link Badge}, as JAAS and custom realms do):
 * {@code request.getUserPrincipal()} returns that object, which the webapp may change in place. One user, alice.
 */
final class BadgeRealm extends RealmBase {

    /** The application's user object: a request reaches it through {@code getUserPrincipal()}, not the session. */
    static final class Badge implements Principal, Serializable {
        private static final long serialVersionUID = 1L;
        private String name;
        private int visits;

        Badge() {
        }

        Badge(String name) {
            this.name = name;
        }

        @Override
        public String getName() {
            return name;
        }

        /** Counts one more visit, in place. */
        int visit() {
            return ++visits;
        }
    }

    @Override
    protected String getPassword(String username) {
        return "alice".equals(username) ? "secret" : null;
    }

    @Override
    protected Principal getPrincipal(String username) {
        return "alice".equals(username) ? principal(username, List.of("user"), new Badge(username)) : null;
    }

    /** Tomcat 9 takes a password too; 10.1 and 11 do not (the suite runs on all three). */
    private static GenericPrincipal principal(String name, List<String> roles, Principal user) {
        try {
            try {
                return GenericPrincipal.class.getConstructor(String.class, List.class, Principal.class)
                        .newInstance(name, roles, user);
            } catch (NoSuchMethodException tomcat9) {
                return GenericPrincipal.class.getConstructor(String.class, String.class, List.class, Principal.class)
                        .newInstance(name, null, roles, user);
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot make a GenericPrincipal", e);
        }
    }

    /** Tomcat 9's RealmBase still asks for a name (deprecated there, gone later). */
    protected String getName() {
        return "badge";
    }
}
