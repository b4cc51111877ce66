package io.msm.serializer.kryo;

import io.msm.spi.TranscoderFactory;
import io.msm.test.transcoder.TranscoderContract;

/** The round-trip contract, on Kryo: every case must read back equal. */
class KryoTranscoderContractTest extends TranscoderContract {
    @Override
    protected TranscoderFactory factory() {
        return new KryoTranscoderFactory();
    }
}
