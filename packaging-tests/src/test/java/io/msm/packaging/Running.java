package io.msm.packaging;

import java.util.ArrayList;
import java.util.List;

/** What a test started (Tomcats, balancers, traffic), closed after it in reverse order: the last started first. */
final class Running {
    private final List<AutoCloseable> started = new ArrayList<>();

    <T extends AutoCloseable> T track(T resource) {
        started.add(resource);
        return resource;
    }

    void closeAll() throws Exception {
        for (int i = started.size() - 1; i >= 0; i--) {
            started.get(i).close();
        }
        started.clear();
    }
}
