"""Current calls from jGrants (デジタル庁's public subsidy portal): the API client, a call as a citable
document, and the incremental sync that brings calls and their attached 公募要領 into the corpus."""
