/** Storage of session bytes on memcached nodes. Implementation detail; not API. */
package io.msm.store;
