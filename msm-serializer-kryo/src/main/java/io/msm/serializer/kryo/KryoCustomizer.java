package io.msm.serializer.kryo;

import com.esotericsoftware.kryo.Kryo;
import java.util.Collection;
import java.util.List;

/**
 * A {@code customConverter} for the Kryo transcoder: a class of the webapp (or of Tomcat's {@code lib/}) that
 * registers serializers or tunes Kryo. Name it in {@code context.xml}:
 *
 * <pre>{@code
 * <Manager className="io.msm.tomcat.MemcachedSessionManager" memcachedNodes="n1:localhost:11211"
 *          transcoderFactoryClass="io.msm.serializer.kryo.KryoTranscoderFactory"
 *          customConverter="com.shop.session.ShopKryoCustomizer"/>
 * }</pre>
 *
 * <pre>{@code
 * package com.shop.session;
 *
 * public class ShopKryoCustomizer implements KryoCustomizer {
 *     public void customize(Kryo kryo) {
 *         kryo.register(Money.class, new MoneySerializer(), 1000);   // a fixed id: the same on every Tomcat
 *         kryo.register(Cart.class, 1001);
 *     }
 *
 *     public Collection<String> deniedClasses() {
 *         return List.of("com.shop.internal.*");                    // never read back from memcached
 *     }
 * }
 * }</pre>
 *
 * <p>The class needs a public no-argument constructor. One instance is created per webapp when the manager starts
 * (a failure stops the manager from starting, naming the class); {@link #customize(Kryo)} then runs once for every
 * Kryo instance the transcoder creates (they are pooled and reused, one per concurrent (de)serialization), after
 * msm's own configuration, so a customizer may override it. Several customizers run in the order listed.
 *
 * <p>Registration ids must be the same on every Tomcat sharing the memcached nodes: use fixed ids at or above
 * {@link KryoTranscoderFactory#FIRST_APPLICATION_REGISTRATION_ID}, never the automatic next id. To allow only
 * registered classes, call {@code kryo.setRegistrationRequired(true)} and register every class the sessions hold.
 */
public interface KryoCustomizer {

    /** Registers serializers or changes settings of one Kryo instance before its first use. */
    void customize(Kryo kryo);

    /**
     * Class-name patterns refused when reading (and writing), in addition to
     * {@link KryoTranscoderFactory#DEFAULT_DENIED_CLASSES}: a fully qualified class name, or a package followed by
     * {@code .*} or {@code .**} (either means that package and every package below it); subclasses of a listed
     * class are refused too. Defaults to none.
     */
    default Collection<String> deniedClasses() {
        return List.of();
    }
}
