package io.msm.benchmarks.model;

import java.io.Serializable;
import java.math.BigDecimal;
import java.util.Date;
import java.util.List;
import java.util.Objects;

/** One line of a shopping cart. */
public class CartItem implements Serializable {
    private static final long serialVersionUID = 1L;
    String sku;
    String name;
    String description;
    int quantity;
    BigDecimal unitPrice;
    Date addedAt;
    List<String> tags;

    public CartItem() {
    }

    public CartItem(String sku, String name, String description, int quantity, BigDecimal unitPrice, Date addedAt,
            List<String> tags) {
        this.sku = sku;
        this.name = name;
        this.description = description;
        this.quantity = quantity;
        this.unitPrice = unitPrice;
        this.addedAt = addedAt;
        this.tags = tags;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof CartItem)) {
            return false;
        }
        CartItem c = (CartItem) o;
        return quantity == c.quantity && Objects.equals(sku, c.sku) && Objects.equals(name, c.name)
                && Objects.equals(description, c.description) && Objects.equals(unitPrice, c.unitPrice)
                && Objects.equals(addedAt, c.addedAt) && Objects.equals(tags, c.tags);
    }

    @Override
    public int hashCode() {
        return Objects.hash(sku, quantity);
    }
}
