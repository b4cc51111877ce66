package io.msm.test.transcoder;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serializable;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Base class of the gadget stand-ins {@link GadgetCorpus} compiles under the real names of gadget classes whose library
 * is not on the test class path. A stand-in does nothing harmful; it records that Java serialization ran one of its
 * hooks ({@code readObject}, {@code readObjectNoData}, {@code readResolve}), which a real gadget would have used.
 * Each generated stand-in also declares its own {@code readObject} that records, so a stream that leaves this class
 * out of the hierarchy still trips it.
 */
public abstract class StandIn implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Names of stand-in classes a deserialization hook of which ran. */
    public static final Set<String> RAN = ConcurrentHashMap.newKeySet();

    /** A field, so the class has state to write and read. */
    public String label = "stand-in";

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        RAN.add(getClass().getName());
        in.defaultReadObject();
    }

    private void readObjectNoData() {
        RAN.add(getClass().getName());
    }

    protected Object readResolve() {
        RAN.add(getClass().getName());
        return this;
    }
}
