package org.apache.commons.collections.functors;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serializable;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A harmless stand-in under the name of commons-collections' InvokerTransformer, the link of the best-known Java
 * deserialization gadget chain (CVE-2015-7501 and its kin). Instead of invoking a method it counts how often it was
 * deserialized, so a test can show that a reader without msm's filter would run it and msm's does not.
 */
public class InvokerTransformer implements Serializable {
    private static final long serialVersionUID = 1L;
    public static final AtomicInteger DETONATIONS = new AtomicInteger();

    public String methodName = "exec";
    public Object[] args = {"touch /tmp/pwned"};

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        DETONATIONS.incrementAndGet();
    }
}
