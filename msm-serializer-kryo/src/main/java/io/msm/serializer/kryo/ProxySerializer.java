package io.msm.serializer.kryo;

import static io.msm.serializer.kryo.JdkSerializers.count;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.Arrays;

/**
 * A JDK dynamic proxy (Kryo routes every proxy class to the registration of {@link InvocationHandler}): its
 * interfaces and its handler; read back as a proxy defined in the webapp class loader.
 */
final class ProxySerializer extends Serializer<Object> {
    @Override
    public void write(Kryo kryo, Output output, Object proxy) {
        if (!Proxy.isProxyClass(proxy.getClass())) {
            throw new KryoException(proxy.getClass().getName() + " is an InvocationHandler, not a proxy; "
                    + "register a serializer for it");
        }
        Class<?>[] interfaces = proxy.getClass().getInterfaces();
        output.writeVarInt(interfaces.length, true);
        for (Class<?> i : interfaces) {
            kryo.writeClass(output, i);
        }
        kryo.writeClassAndObject(output, Proxy.getInvocationHandler(proxy));
    }

    @Override
    public Object read(Kryo kryo, Input input, Class<?> type) {
        Class<?>[] interfaces = new Class<?>[count(input, 1)];
        for (int i = 0; i < interfaces.length; i++) {
            Registration r = kryo.readClass(input);
            if (r == null || !r.getType().isInterface()) {
                throw new KryoException("proxy interface expected, got " + r);
            }
            interfaces[i] = r.getType();
        }
        Object handler = kryo.readClassAndObject(input);
        if (!(handler instanceof InvocationHandler)) {
            throw new KryoException("proxy handler expected, got " + (handler == null ? null
                    : handler.getClass().getName()));
        }
        try {
            return Proxy.newProxyInstance(kryo.getClassLoader(), interfaces, (InvocationHandler) handler);
        } catch (IllegalArgumentException e) {
            throw new KryoException("cannot define a proxy for " + Arrays.toString(interfaces)
                    + " in the webapp class loader: " + e.getMessage(), e);
        }
    }
}
