package io.msm.benchmarks.e2e;

import java.util.function.Consumer;

/** Builds the {@link EndToEndBenchmark.Result} rows the table tests feed to the tables. */
final class ResultRow {
    private ResultRow() {
    }

    /**
     * A result of {@code perSecond} requests/s with the fields {@code fields} sets; any other keeps the default a
     * measurement would leave it at (0, or NaN for the unknown bytes per request), which is what the tables print.
     */
    static EndToEndBenchmark.Result of(double perSecond, Consumer<EndToEndBenchmark.Result> fields) {
        EndToEndBenchmark.Result r = new EndToEndBenchmark.Result();
        r.perSecond = perSecond;
        fields.accept(r);
        return r;
    }
}
