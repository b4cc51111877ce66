/** The versioned session blob format. Implementation detail; not API. */
package io.msm.codec;
