package io.msm.benchmarks.model;

import java.io.Serializable;
import java.math.BigDecimal;
import java.util.Date;
import java.util.List;
import java.util.Objects;

/** A shopping cart. */
public class Cart implements Serializable {
    private static final long serialVersionUID = 1L;
    String id;
    List<CartItem> items;
    Date created;
    BigDecimal total;
    String currency;

    public Cart() {
    }

    public Cart(String id, List<CartItem> items, Date created, BigDecimal total, String currency) {
        this.id = id;
        this.items = items;
        this.created = created;
        this.total = total;
        this.currency = currency;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Cart)) {
            return false;
        }
        Cart c = (Cart) o;
        return Objects.equals(id, c.id) && Objects.equals(items, c.items) && Objects.equals(created, c.created)
                && Objects.equals(total, c.total) && Objects.equals(currency, c.currency);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id);
    }
}
