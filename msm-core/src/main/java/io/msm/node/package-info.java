/** Session ids, node choice and node availability. Implementation detail; not API. */
package io.msm.node;
