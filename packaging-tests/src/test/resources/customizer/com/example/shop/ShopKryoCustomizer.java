package com.example.shop;

import io.msm.serializer.kryo.KryoCustomizer;
import io.msm.shaded.com.esotericsoftware.kryo.Kryo;

/**
 * A webapp's customConverter written against the bundle: Kryo is imported from its relocated package. PackagingIT
 * compiles it against the bundle jar into the webapp's WEB-INF/classes; counter.jsp reports that it ran.
 */
public class ShopKryoCustomizer implements KryoCustomizer {
    @Override
    public void customize(Kryo kryo) {
        kryo.register(java.util.UUID[].class, 1000); // a fixed id at or above FIRST_APPLICATION_REGISTRATION_ID
        System.setProperty("msm.packaging.customized", "yes");
    }
}
