"""Small view functions of Vars (no state imports): the pages compose them."""
