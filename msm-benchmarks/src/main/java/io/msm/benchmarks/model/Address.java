package io.msm.benchmarks.model;

import java.io.Serializable;
import java.util.Objects;

/** A postal address. */
public class Address implements Serializable {
    private static final long serialVersionUID = 1L;
    String street;
    String city;
    String zip;
    String country;

    public Address() {
    }

    public Address(String street, String city, String zip, String country) {
        this.street = street;
        this.city = city;
        this.zip = zip;
        this.country = country;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Address)) {
            return false;
        }
        Address a = (Address) o;
        return Objects.equals(street, a.street) && Objects.equals(city, a.city) && Objects.equals(zip, a.zip)
                && Objects.equals(country, a.country);
    }

    @Override
    public int hashCode() {
        return Objects.hash(street, zip);
    }
}
