package io.msm.benchmarks.model;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The session payloads: {@code typical} (a logged-in user, a cart of 20 items with prices and dates, a few strings
 * and lists) and {@code large} (the same plus 300 recently viewed products with descriptions: about 100 KB in Java
 * serialization). Deterministic (fixed seed and clock). Dates are {@code java.util.Date}, which every serializer
 * compared here could store.
 */
public final class Sessions {
    private Sessions() {
    }

    private static final long T0 = 1_790_000_000_000L;

    public static Map<String, Object> build(String kind) {
        Random r = new Random(42);
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("user", new User(81234L, "alice.smith", "alice.smith@example.com", "Alice Smith",
                new ArrayList<>(List.of("customer", "newsletter", "beta")), new Date(T0 - 3_600_000L),
                new Address("Hauptstrasse 12", "Berlin", "10115", "DE"), true));
        List<CartItem> items = new ArrayList<>();
        BigDecimal total = BigDecimal.ZERO;
        for (int i = 0; i < 20; i++) {
            CartItem item = item(r, i, 0);
            items.add(item);
            total = total.add(item.unitPrice.multiply(BigDecimal.valueOf(item.quantity)));
        }
        s.put("cart", new Cart("cart-" + Long.toHexString(r.nextLong()), items, new Date(T0 - 7_200_000L), total,
                "EUR"));
        s.put("locale", "de_DE");
        s.put("csrfToken", Long.toHexString(r.nextLong()) + Long.toHexString(r.nextLong()));
        List<String> viewed = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            viewed.add("SKU-" + (100000 + r.nextInt(900000)));
        }
        s.put("recentlyViewed", viewed);
        s.put("lastSearch", "blue running shoes size 42");
        Map<String, String> flash = new LinkedHashMap<>();
        flash.put("message", "Item added to your cart");
        flash.put("level", "info");
        s.put("flash", flash);
        s.put("pageViews", 37);
        if ("large".equals(kind)) {
            List<CartItem> history = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                history.add(item(r, i, 180));
            }
            s.put("browsingHistory", history);
        } else if (!"typical".equals(kind)) {
            throw new IllegalArgumentException("session kind: typical or large, not " + kind);
        }
        return s;
    }

    private static CartItem item(Random r, int i, int descriptionLength) {
        StringBuilder description = new StringBuilder();
        while (description.length() < descriptionLength) {
            description.append(WORDS[r.nextInt(WORDS.length)]).append(' ');
        }
        return new CartItem("SKU-" + (100000 + r.nextInt(900000)), "Product " + i + " " + WORDS[r.nextInt(
                WORDS.length)], descriptionLength == 0 ? null : description.toString(), 1 + r.nextInt(3),
                new BigDecimal(r.nextInt(20000)).movePointLeft(2), new Date(T0 - r.nextInt(86_400_000)),
                new ArrayList<>(List.of(WORDS[r.nextInt(WORDS.length)], WORDS[r.nextInt(WORDS.length)])));
    }

    private static final String[] WORDS = {"organic", "cotton", "shirt", "blue", "running", "shoe", "lamp",
        "ceramic", "mug", "wireless", "headphones", "sale", "gift", "kitchen", "garden", "premium", "eco", "kids"};
}
